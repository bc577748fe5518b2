/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which A/B slot is running, found from the running system as RAUC does:
 * the kernel command line first, then the root device. The boot
 * variable only says what boots next.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "bootenv.h"
#include "slot.h"

#define CMDLINE_MAX	4096
#define ARG_MAX_LEN	256

/* What was tried, for the refusal's message. */
struct probe {
	char why[400];
	size_t len;
};

static void note(struct probe *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct probe *pr, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (pr->len >= sizeof(pr->why) - 1)
		return;
	if (pr->len)
		pr->why[pr->len++] = ';', pr->why[pr->len++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(pr->why + pr->len, sizeof(pr->why) - pr->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		pr->len += (size_t)n;
	if (pr->len >= sizeof(pr->why))
		pr->len = sizeof(pr->why) - 1;
}

static bool read_cmdline(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return true;
}

/*
 * The value of the kernel argument @name in @cmdline, without quotes
 * (the kernel's rule: a double quote toggles quoting). The last one
 * counts, as for the kernel's own parameters.
 */
static bool cmdline_arg(const char *cmdline, const char *name, char *out,
			size_t outlen)
{
	size_t nlen = strlen(name);
	bool found = false;
	const char *s = cmdline;

	while (*s) {
		char word[ARG_MAX_LEN];
		size_t w = 0;
		bool quoted = false;

		s += strspn(s, " \t\n");
		for (; *s && (quoted || !strchr(" \t\n", *s)); s++) {
			if (*s == '"')
				quoted = !quoted;
			else if (w + 1 < sizeof(word))
				word[w++] = *s;
		}
		word[w] = '\0';
		if (w > nlen && !strncmp(word, name, nlen) && word[nlen] == '=') {
			snprintf(out, outlen, "%s", word + nlen + 1);
			found = true;
		}
	}
	return found;
}

/* The source and device number of the mount on /, the top one. */
static bool root_mount(char *source, size_t len, dev_t *dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		char mnt[256], src[256];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*u %*u %u:%u %*s %255s", &maj, &min,
				   mnt) != 3 || strcmp(mnt, "/"))
			continue;
		if (sscanf(sep + 3, "%*s %255s", src) != 1)
			continue;
		snprintf(source, len, "%s", src);
		*dev = makedev(maj, min);
		found = true;
	}
	fclose(f);
	return found;
}

/* @spec (a name, or a block device with number @dev when not 0) is the
 * slot device @slotdev. */
static bool is_device(const char *spec, dev_t dev, const char *slotdev)
{
	struct stat a, b;

	if (!strcmp(spec, slotdev))
		return true;
	if (stat(slotdev, &b) || !S_ISBLK(b.st_mode))
		return false;
	if (dev)
		return b.st_rdev == dev;
	return !stat(spec, &a) && S_ISBLK(a.st_mode) && a.st_rdev == b.st_rdev;
}

static int slot_of_device(const struct config_target *t, const char *spec,
			  dev_t dev)
{
	for (int i = 0; i < 2; i++)
		if (is_device(spec, dev, t->slot_device[i]))
			return i;
	return -1;
}

static int from_arg(const struct config *cfg, const struct config_target *t,
		    const char *cmdline, struct probe *pr)
{
	char v[ARG_MAX_LEN];

	if (!cfg->booted_slot_arg) {
		note(pr, "[device] booted_slot_arg is not set");
		return -1;
	}
	if (!cmdline_arg(cmdline, cfg->booted_slot_arg, v, sizeof(v))) {
		note(pr, "%s has no %s=", cfg->cmdline, cfg->booted_slot_arg);
		return -1;
	}
	for (int i = 0; i < 2; i++)
		if (!strcmp(v, t->slot_value[i]))
			return i;
	note(pr, "%s=%s in %s names neither slot a ('%s') nor slot b ('%s')",
	     cfg->booted_slot_arg, v, cfg->cmdline, t->slot_value[0],
	     t->slot_value[1]);
	return -1;
}

static int from_root(const struct config *cfg, const struct config_target *t,
		     const char *cmdline, struct probe *pr)
{
	char src[256], root[ARG_MAX_LEN];
	dev_t dev = 0;
	int s;

	if (root_mount(src, sizeof(src), &dev)) {
		if ((s = slot_of_device(t, src, dev)) >= 0)
			return s;
		note(pr, "/ is %s (%u:%u), neither a (%s) nor b (%s)", src,
		     major(dev), minor(dev), t->slot_device[0],
		     t->slot_device[1]);
	} else {
		note(pr, "no mount on / in /proc/self/mountinfo");
	}
	if (!cmdline_arg(cmdline, "root", root, sizeof(root))) {
		note(pr, "no root= in %s", cfg->cmdline);
		return -1;
	}
	if ((s = slot_of_device(t, root, 0)) >= 0)
		return s;
	note(pr, "root=%s is neither slot device", root);
	return -1;
}

static int probe_target(const struct config *cfg,
			const struct config_target *t, const char *cmdline,
			struct probe *pr)
{
	int s = from_arg(cfg, t, cmdline, pr);

	return s >= 0 ? s : from_root(cfg, t, cmdline, pr);
}

enum su_err slot_booted(const struct config *cfg,
			const struct config_target *t, int *slot,
			struct su_error *err)
{
	char cmdline[CMDLINE_MAX] = "";
	struct probe pr = { .len = 0 };
	struct probe ignored = { .len = 0 };

	if (!read_cmdline(cfg->cmdline, cmdline, sizeof(cmdline)))
		note(&pr, "cannot read %s: %m", cfg->cmdline);
	*slot = probe_target(cfg, t, cmdline, &pr);
	/* A kernel slot follows the root slot it boots with. */
	for (size_t i = 0; *slot < 0 && i < cfg->n_targets; i++) {
		const struct config_target *o = &cfg->targets[i];

		if (o != t && config_target_is_ab(o) &&
		    !strcmp(o->slot_var, t->slot_var))
			*slot = probe_target(cfg, o, cmdline, &ignored);
	}
	if (*slot >= 0)
		return SU_OK;
	return su_error_set(err, SU_ERR_CONFIG,
			    "target %s: cannot tell which slot is running, so none is written: %s",
			    t->name, pr.why);
}

enum su_err slot_check_pending(const struct config *cfg, struct bootenv *env,
			       struct su_error *err)
{
	const char *avail = bootenv_get(env, cfg->upgrade_available_var);

	if (!avail || !*avail)
		return SU_OK;
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const struct config_target *t = &cfg->targets[i];
		const char *v;
		int booted;

		if (!config_target_is_ab(t))
			continue;
		v = bootenv_get(env, t->slot_var);
		/* Unknown here, refused when planned, with the reason. */
		if (slot_booted(cfg, t, &booted, NULL))
			continue;
		if (v && strcmp(v, t->slot_value[booted]))
			return su_error_set(err, SU_ERR_REBOOT_PENDING,
					    "an install waits for its reboot: slot %c of target %s is running, %s = %s names the other and %s is set; reboot first",
					    'a' + booted, t->name, t->slot_var,
					    v, cfg->upgrade_available_var);
	}
	return SU_OK;
}
