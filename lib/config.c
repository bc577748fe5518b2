/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/sysupgraded.conf. inih does the INI syntax; this file knows the
 * keys. Each [section] has a table of keys and setters, so a new key is
 * one line in a table.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "digest.h"

struct parse {
	struct config *c;
	struct su_error *err;
	const char *path;
	FILE *f;
	unsigned line;
	enum su_err rc;
};

typedef enum su_err (*setter_fn)(struct parse *p, void *field,
				 const char *value);

struct key {
	const char *name;
	size_t offset;		/* of the field in struct config */
	setter_fn set;
};

static enum su_err bad(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum su_err bad(struct parse *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!p->line)
		return su_error_set(p->err, SU_ERR_CONFIG, "%s: %s", p->path, msg);
	return su_error_set(p->err, SU_ERR_CONFIG, "%s:%u: %s", p->path,
			    p->line, msg);
}

static enum su_err nomem(struct parse *p)
{
	return su_error_set(p->err, SU_ERR_NOMEM, "%s:%u: %m", p->path,
			    p->line);
}

static enum su_err set_string(struct parse *p, void *field, const char *value)
{
	char **s = field;

	free(*s);
	*s = strdup(value);
	return *s ? SU_OK : nomem(p);
}

static int parse_bool(const char *v)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		return 1;
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		return 0;
	return -1;
}

static enum su_err set_bool(struct parse *p, void *field, const char *value)
{
	int b = parse_bool(value);

	if (b < 0)
		return bad(p, "'%s' is not yes or no", value);
	*(bool *)field = b;
	return SU_OK;
}

static enum su_err set_uint(struct parse *p, void *field, const char *value)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || end == value || *end || v > 1000000)
		return bad(p, "'%s' is not a number", value);
	*(unsigned *)field = (unsigned)v;
	return SU_OK;
}

int config_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1 }, { "K", 1ULL << 10 }, { "KiB", 1ULL << 10 },
		{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 },
		{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	};
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

static enum su_err set_size(struct parse *p, void *field, const char *value)
{
	if (config_parse_size(value, field))
		return bad(p, "'%s' is not a size (e.g. 512M)", value);
	return SU_OK;
}

/* Append each word of @value (split on spaces and commas) to a list. */
static enum su_err append_words(struct parse *p, char ***list, size_t *n,
				const char *value)
{
	const char *s = value;

	while (*s) {
		size_t len = strcspn(s, " \t,");
		char **grown;

		if (len) {
			grown = realloc(*list, (*n + 1) * sizeof(**list));
			if (!grown)
				return nomem(p);
			*list = grown;
			grown[*n] = strndup(s, len);
			if (!grown[*n])
				return nomem(p);
			(*n)++;
		}
		s += len;
		s += strspn(s, " \t,");
	}
	return SU_OK;
}

static enum su_err set_keep(struct parse *p, void *field, const char *value)
{
	(void)field;
	return append_words(p, &p->c->keep, &p->c->n_keep, value);
}

static enum su_err set_extra_files(struct parse *p, void *field,
				   const char *value)
{
	(void)field;
	return append_words(p, &p->c->extra_files, &p->c->n_extra_files, value);
}

static enum su_err set_token(struct parse *p, void *field, const char *value)
{
	struct config *c = p->c;
	size_t first = c->n_tokens;
	uint8_t d[DIGEST_LEN];
	enum su_err rc;

	(void)field;
	rc = append_words(p, &c->token_sha256, &c->n_tokens, value);
	for (size_t i = first; !rc && i < c->n_tokens; i++) {
		char *t = c->token_sha256[i];

		if (digest_from_hex(t, d))
			return bad(p, "token_sha256 '%.16s...' is not 64 hex digits",
				   t);
		digest_to_hex(d, t);	/* store lower case */
	}
	return rc;
}

static enum su_err add_listen(struct parse *p, const char *value, bool tls)
{
	struct config *c = p->c;
	char **words = NULL;
	size_t n = 0;
	enum su_err rc;

	rc = append_words(p, &words, &n, value);
	for (size_t i = 0; i < n; i++) {
		struct config_listen *grown;

		if (rc) {
			free(words[i]);
			continue;
		}
		grown = realloc(c->listen, (c->n_listen + 1) * sizeof(*grown));
		if (!grown) {
			free(words[i]);
			rc = nomem(p);
			continue;
		}
		c->listen = grown;
		grown[c->n_listen].address = words[i];
		grown[c->n_listen++].tls = tls;
	}
	free(words);
	return rc;
}

static enum su_err set_listen(struct parse *p, void *field, const char *value)
{
	(void)field;
	return add_listen(p, value, true);
}

static enum su_err set_http_listen(struct parse *p, void *field,
				   const char *value)
{
	(void)field;
	return add_listen(p, value, false);
}

#define F(field) offsetof(struct config, field)

static const struct key device_keys[] = {
	{ "compatible", F(compatible), set_string },
	{ "version", F(version), set_string },
	{ "version_file", F(version_file), set_string },
	{ "keys", F(keys_dir), set_string },
	{ "fw_env_config", F(fw_env_config), set_string },
	{ "upgrade_available_var", F(upgrade_available_var), set_string },
	{ "bootcount_var", F(bootcount_var), set_string },
	{ "transaction_var", F(transaction_var), set_string },
	{ "cmdline", F(cmdline), set_string },
	{ "booted_slot_arg", F(booted_slot_arg), set_string },
	{ "meminfo", F(meminfo), set_string },
	{ NULL, 0, NULL },
};

static const struct key server_keys[] = {
	{ "listen", 0, set_listen },
	{ "http_listen", 0, set_http_listen },
	{ "cert", F(tls_cert), set_string },
	{ "key", F(tls_key), set_string },
	{ "client_ca", F(client_ca), set_string },
	{ "token_sha256", 0, set_token },
	{ "info_public", F(info_public), set_bool },
	{ "http_token", F(http_token), set_bool },
	{ "www", F(www_dir), set_string },
	{ "max_connections", F(max_connections), set_uint },
	{ "connection_timeout", F(connection_timeout), set_uint },
	{ NULL, 0, NULL },
};

static const struct key staging_keys[] = {
	{ "dir", F(staging_dir), set_string },
	{ "max_size", F(staging_max), set_size },
	{ NULL, 0, NULL },
};

static const struct key install_keys[] = {
	{ "handover", F(handover), set_string },
	{ "handover_command", F(handover_command), set_string },
	{ "stop_command", F(stop_command), set_string },
	{ "start_command", F(start_command), set_string },
	{ "stop_timeout", F(stop_timeout), set_uint },
	{ "s6_scandir", F(s6_scandir), set_string },
	{ "reboot_command", F(reboot_command), set_string },
	{ "keep", 0, set_keep },
	{ "keep_d", F(keep_d), set_string },
	{ "keep_target", F(keep_target), set_string },
	{ "keep_path", F(keep_path), set_string },
	{ "extra_files", 0, set_extra_files },
	{ "last_install", F(last_install), set_string },
	{ "last_install_var", F(last_install_var), set_string },
	{ "watchdog", F(watchdog), set_string },
	{ "stage2_memory", F(stage2_memory), set_size },
	{ NULL, 0, NULL },
};

#undef F

static const struct {
	const char *name;
	const struct key *keys;
} sections[] = {
	{ "device", device_keys },
	{ "server", server_keys },
	{ "staging", staging_keys },
	{ "install", install_keys },
};

static struct config_target *target_for(struct parse *p, const char *name)
{
	struct config *c = p->c;
	struct config_target *t;

	if (c->n_targets && !strcmp(c->targets[c->n_targets - 1].name, name))
		return &c->targets[c->n_targets - 1];
	if (config_find_target(c, name)) {
		bad(p, "[target:%s] appears twice", name);
		return NULL;
	}
	t = realloc(c->targets, (c->n_targets + 1) * sizeof(*t));
	if (!t) {
		nomem(p);
		return NULL;
	}
	c->targets = t;
	t = &t[c->n_targets++];
	memset(t, 0, sizeof(*t));
	t->critical = true;
	t->name = strdup(name);
	if (!t->name) {
		c->n_targets--;
		nomem(p);
		return NULL;
	}
	return t;
}

static enum su_err add_option(struct parse *p, struct config_target *t,
			      const char *key, const char *value)
{
	struct config_option *o;

	o = realloc(t->options, (t->n_options + 1) * sizeof(*o));
	if (!o)
		return nomem(p);
	t->options = o;
	o = &o[t->n_options];
	o->key = strdup(key);
	o->value = strdup(value);
	if (!o->key || !o->value) {
		free(o->key);
		free(o->value);
		return nomem(p);
	}
	t->n_options++;
	return SU_OK;
}

static enum su_err target_key(struct parse *p, const char *tname,
			      const char *key, const char *value)
{
	struct config_target *t = target_for(p, tname);
	int b;

	if (!t)
		return p->err->code;
	if (!strcmp(key, "type"))
		return set_string(p, &t->type, value);
	if (!strcmp(key, "device"))
		return set_string(p, &t->device, value);
	if (!strcmp(key, "a"))
		return set_string(p, &t->slot_device[0], value);
	if (!strcmp(key, "b"))
		return set_string(p, &t->slot_device[1], value);
	if (!strcmp(key, "slot_var"))
		return set_string(p, &t->slot_var, value);
	if (!strcmp(key, "slot_a_value"))
		return set_string(p, &t->slot_value[0], value);
	if (!strcmp(key, "slot_b_value"))
		return set_string(p, &t->slot_value[1], value);
	if (!strcmp(key, "in_use"))
		return set_bool(p, &t->in_use, value);
	if (!strcmp(key, "critical"))
		return set_bool(p, &t->critical, value);
	if (!strcmp(key, "verify")) {
		b = !strcmp(value, "readback") ? 1 : !strcmp(value, "none") ? 0 : -1;
		if (b < 0)
			return bad(p, "verify = '%s': expected readback or none",
				   value);
		t->readback = b;
		return SU_OK;
	}
	return add_option(p, t, key, value);
}

static enum su_err section_key(struct parse *p, const char *section,
			       const char *name, const char *value)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (strcmp(section, sections[i].name))
			continue;
		for (const struct key *k = sections[i].keys; k->name; k++)
			if (!strcmp(k->name, name))
				return k->set(p, (char *)p->c + k->offset, value);
		return bad(p, "unknown key '%s' in [%s]", name, section);
	}
	if (!strncmp(section, "target:", 7) && section[7])
		return target_key(p, section + 7, name, value);
	return bad(p, "unknown section [%s]", section);
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse *p = user;

	/* inih goes on after an error: keep the first one, which names
	 * the key, rather than let a later good key reset it. */
	if (p->rc)
		return 0;
	p->rc = section_key(p, section, name, value);
	return p->rc == SU_OK;
}

/* inih's reader, counting lines so errors can name them. */
static char *read_line(char *buf, int size, void *user)
{
	struct parse *p = user;
	char *s = fgets(buf, size, p->f);

	if (s)
		p->line++;
	return s;
}

static enum su_err check_target(struct parse *p, const struct config_target *t)
{
	bool ab = t->slot_device[0] || t->slot_device[1];

	if (!t->type)
		return bad(p, "[target:%s] has no type", t->name);
	if (ab && (!t->slot_device[0] || !t->slot_device[1]))
		return bad(p, "[target:%s] needs both a and b", t->name);
	if (ab && t->device)
		return bad(p, "[target:%s] has device and a/b; pick one",
			   t->name);
	if (!ab && !t->device)
		return bad(p, "[target:%s] has no device", t->name);
	if (ab && !t->slot_var)
		return bad(p, "[target:%s] has slots but no slot_var",
			   t->name);
	if (ab && !strcmp(t->slot_device[0], t->slot_device[1]))
		return bad(p, "[target:%s]: a and b are the same device, %s",
			   t->name, t->slot_device[0]);
	if (ab && !strcmp(t->slot_value[0], t->slot_value[1]))
		return bad(p, "[target:%s]: slot_a_value and slot_b_value are both '%s'",
			   t->name, t->slot_value[0]);
	return SU_OK;
}

static enum su_err set_default(struct parse *p, char **field, const char *v)
{
	return *field ? SU_OK : set_string(p, field, v);
}

static enum su_err apply_defaults(struct parse *p)
{
	struct config *c = p->c;
	enum su_err rc = SU_OK;

	rc = rc ? rc : set_default(p, &c->keys_dir, "/etc/sysupgraded/keys");
	rc = rc ? rc : set_default(p, &c->fw_env_config, "/etc/fw_env.config");
	rc = rc ? rc : set_default(p, &c->upgrade_available_var, "upgrade_available");
	rc = rc ? rc : set_default(p, &c->bootcount_var, "bootcount");
	rc = rc ? rc : set_default(p, &c->transaction_var, "sysupgrade_transaction");
	rc = rc ? rc : set_default(p, &c->cmdline, "/proc/cmdline");
	rc = rc ? rc : set_default(p, &c->meminfo, "/proc/meminfo");
	rc = rc ? rc : set_default(p, &c->staging_dir, "/run/sysupgraded");
	rc = rc ? rc : set_default(p, &c->handover, "none");
	rc = rc ? rc : set_default(p, &c->reboot_command, "reboot");
	rc = rc ? rc : set_default(p, &c->s6_scandir, "/run/service");
	rc = rc ? rc : set_default(p, &c->keep_d, "/etc/sysupgraded/keep.d");
	rc = rc ? rc : set_default(p, &c->keep_path, "/");
	rc = rc ? rc : set_default(p, &c->last_install_var, "sysupgrade_last");
	rc = rc ? rc : set_default(p, &c->www_dir, "/usr/share/sysupgraded/www");
	for (size_t i = 0; !rc && i < c->n_targets; i++) {
		struct config_target *t = &c->targets[i];

		rc = set_default(p, &t->slot_value[0], "a");
		rc = rc ? rc : set_default(p, &t->slot_value[1], "b");
	}
	if (!c->max_connections)
		c->max_connections = 32;
	if (!c->connection_timeout)
		c->connection_timeout = 30;
	if (!c->stop_timeout)
		c->stop_timeout = 60;
	if (!c->stage2_memory)
		c->stage2_memory = CONFIG_STAGE2_MEMORY;
	return rc;
}

static enum su_err validate(struct parse *p)
{
	struct config *c = p->c;
	static const char *const handovers[] = {
		"none", "busybox", "s6", "systemd", "procd", "exec",
	};
	bool known = false;

	if (!c->compatible)
		return bad(p, "[device] compatible is not set");
	for (size_t i = 0; i < sizeof(handovers) / sizeof(handovers[0]); i++)
		known |= !strcmp(c->handover, handovers[i]);
	if (!known)
		return bad(p, "[install] handover = %s: expected none, busybox, s6, systemd, procd or exec",
			   c->handover);
	if (!strcmp(c->handover, "exec") && !c->handover_command)
		return bad(p, "[install] handover = exec needs handover_command");
	if (c->keep_target && !config_find_target(c, c->keep_target))
		return bad(p, "[install] keep_target = %s: no [target:%s]",
			   c->keep_target, c->keep_target);
	if (c->last_install && strcmp(c->last_install, "bootenv") &&
	    strcmp(c->last_install, "none") &&
	    (strncmp(c->last_install, "file:/", 6)))
		return bad(p, "[install] last_install = %s: expected bootenv, none or file:/PATH",
			   c->last_install);
	for (size_t i = 0; i < c->n_targets; i++) {
		enum su_err rc = check_target(p, &c->targets[i]);

		if (rc)
			return rc;
	}
	return SU_OK;
}

enum su_err config_load(const char *path, struct config **out,
			struct su_error *err)
{
	struct su_error local;
	struct parse p = { .path = path, .err = err ? err : &local };
	int line;

	p.c = calloc(1, sizeof(*p.c));
	if (!p.c)
		return su_error_set(err, SU_ERR_NOMEM, "%s: %m", path);
	p.c->path = strdup(path);
	p.c->info_public = true;
	p.f = fopen(path, "re");
	if (!p.f) {
		config_free(p.c);
		return su_error_set(err, SU_ERR_CONFIG, "open %s: %m", path);
	}
	line = ini_parse_stream(read_line, &p, on_key, &p);
	fclose(p.f);
	if (!p.rc && line)
		p.rc = su_error_set(p.err, SU_ERR_CONFIG,
				    "%s:%d: not INI syntax", path, line);
	p.line = 0;		/* whole-file checks name no line */
	if (!p.rc)
		p.rc = apply_defaults(&p);
	if (!p.rc)
		p.rc = validate(&p);
	if (p.rc) {
		config_free(p.c);
		return p.rc;
	}
	*out = p.c;
	return SU_OK;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void free_target(struct config_target *t)
{
	free(t->name);
	free(t->type);
	free(t->device);
	free(t->slot_var);
	for (int s = 0; s < 2; s++) {
		free(t->slot_device[s]);
		free(t->slot_value[s]);
	}
	for (size_t i = 0; i < t->n_options; i++) {
		free(t->options[i].key);
		free(t->options[i].value);
	}
	free(t->options);
}

static void free_strings(struct config *c)
{
	char **strings[] = {
		&c->path, &c->compatible, &c->version, &c->version_file,
		&c->keys_dir, &c->fw_env_config, &c->upgrade_available_var,
		&c->bootcount_var, &c->transaction_var, &c->cmdline,
		&c->booted_slot_arg, &c->meminfo, &c->tls_cert,
		&c->tls_key, &c->client_ca, &c->www_dir, &c->staging_dir,
		&c->handover, &c->handover_command, &c->stop_command,
		&c->reboot_command, &c->start_command, &c->s6_scandir,
		&c->keep_d, &c->keep_target, &c->keep_path, &c->last_install,
		&c->last_install_var, &c->watchdog,
	};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(*strings[i]);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free_strings(c);
	for (size_t i = 0; i < c->n_listen; i++)
		free(c->listen[i].address);
	free(c->listen);
	free_list(c->token_sha256, c->n_tokens);
	free_list(c->keep, c->n_keep);
	free_list(c->extra_files, c->n_extra_files);
	for (size_t i = 0; i < c->n_targets; i++)
		free_target(&c->targets[i]);
	free(c->targets);
	free(c);
}

const struct config_target *config_find_target(const struct config *c,
					       const char *name)
{
	for (size_t i = 0; i < c->n_targets; i++)
		if (!strcmp(c->targets[i].name, name))
			return &c->targets[i];
	return NULL;
}

const char *config_target_option(const struct config_target *t,
				 const char *key)
{
	for (size_t i = 0; i < t->n_options; i++)
		if (!strcmp(t->options[i].key, key))
			return t->options[i].value;
	return NULL;
}

bool config_target_flag(const struct config_target *t, const char *key,
			bool def)
{
	const char *v = config_target_option(t, key);
	int b = v ? parse_bool(v) : -1;

	return b < 0 ? def : b;
}

bool config_target_is_ab(const struct config_target *t)
{
	return t->slot_device[0] != NULL;
}

char *config_running_version(const struct config *c, struct su_error *err)
{
	char line[256];
	char *v;
	FILE *f;

	if (c->version)
		return strdup(c->version);
	if (!c->version_file) {
		su_error_set(err, SU_ERR_CONFIG,
			     "%s: [device] sets neither version nor version_file",
			     c->path);
		return NULL;
	}
	f = fopen(c->version_file, "re");
	if (!f) {
		su_error_set(err, SU_ERR_CONFIG, "open %s: %m", c->version_file);
		return NULL;
	}
	v = fgets(line, sizeof(line), f) ? line : NULL;
	fclose(f);
	if (!v || !(line[strcspn(line, "\r\n")] = '\0', *line)) {
		su_error_set(err, SU_ERR_CONFIG, "%s: no version on its first line",
			     c->version_file);
		return NULL;
	}
	return strdup(line);
}
