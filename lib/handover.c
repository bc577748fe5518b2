/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The handover state file, and the memory the admission measures.
 * Stage 2 runs as PID 1 on what this file says, so the reader accepts
 * exactly what the writer writes and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "atomic_file.h"
#include "handover.h"

#define STATE_MAX	(64 * 1024)	/* a few paths; more is not ours */

enum kind { STRING, BOOL, U64 };

static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
} keys[] = {
#define S(f)	{ #f, STRING, offsetof(struct handover_state, f) }
#define B(f)	{ #f, BOOL, offsetof(struct handover_state, f) }
	S(root), S(config), S(exe), S(loader), S(library_path), S(keep),
	S(version), S(method), B(reboot), B(keep_config), B(force),
	{ "event_id", U64, offsetof(struct handover_state, event_id) },
#undef S
#undef B
};
#define N_KEYS	(sizeof(keys) / sizeof(keys[0]))

static char **str_field(struct handover_state *s, const struct key *k)
{
	return (char **)((char *)s + k->off);
}

static const char *str_value(const struct handover_state *s,
			     const struct key *k)
{
	const char *v = *(char *const *)((const char *)s + k->off);

	return v ? v : "";
}

static bool *bool_field(struct handover_state *s, const struct key *k)
{
	return (bool *)((char *)s + k->off);
}

/* A control character would end the line early or forge one. */
static const char *control_char(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return v + i;
	return NULL;
}

/* ---- writing ---- */

static enum su_err format_state(const struct handover_state *s, FILE *f,
				const char *path, struct su_error *err)
{
	fprintf(f, "%s\n", HANDOVER_MAGIC);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		const char *v;

		switch (k->kind) {
		case STRING:
			v = str_value(s, k);
			if (control_char(v, strlen(v)))
				return su_error_set(err, SU_ERR_INTERNAL,
						    "handover state %s: %s has a control character",
						    path, k->name);
			fprintf(f, "%s=%s\n", k->name, v);
			break;
		case BOOL:
			fprintf(f, "%s=%d\n", k->name,
				*(const bool *)((const char *)s + k->off));
			break;
		case U64:
			fprintf(f, "%s=%" PRIu64 "\n", k->name, s->event_id);
			break;
		}
	}
	return SU_OK;
}

/* The state text of @s, in memory: *@buf (freed by the caller). */
static enum su_err format_to_memory(const struct handover_state *s,
				    const char *path, char **buf, size_t *len,
				    struct su_error *err)
{
	FILE *f = open_memstream(buf, len);
	enum su_err rc;

	if (!f)
		return su_error_set(err, SU_ERR_NOMEM, "handover state %s: %m",
				    path);
	rc = format_state(s, f, path, err);
	if (fclose(f) && !rc)
		rc = su_error_set(err, SU_ERR_NOMEM, "handover state %s: %m",
				  path);
	return rc;
}

enum su_err handover_state_write(const char *path,
				 const struct handover_state *s,
				 struct su_error *err)
{
	char *dir = strdup(path), *base = strdup(path), *buf = NULL;
	enum su_err rc;
	size_t len = 0;
	int dfd = -1;

	if (!dir || !base) {
		rc = su_error_set(err, SU_ERR_NOMEM, "handover state %s: %m",
				  path);
		goto out;
	}
	rc = format_to_memory(s, path, &buf, &len, err);
	if (rc)
		goto out;
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = su_error_set(err, SU_ERR_IO, "handover state %s: open %s: %m",
				  path, dir);
		goto out;
	}
	/* 0600: the state names the config and keys */
	rc = file_replace_at(dfd, basename(base), buf, len, 0600, path, err);
out:
	if (dfd >= 0)
		close(dfd);
	free(buf);
	free(base);
	free(dir);
	return rc;
}

/* ---- reading ---- */

/* "PATH:LINE: why" (line 0: "PATH: why"), SU_ERR_CONFIG. */
static enum su_err __attribute__((format(printf, 4, 5)))
invalid(struct su_error *err, const char *path, unsigned line,
	const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (line)
		return su_error_set(err, SU_ERR_CONFIG, "%s:%u: %s", path, line,
				    why);
	return su_error_set(err, SU_ERR_CONFIG, "%s: %s", path, why);
}

/* The whole file, NUL-terminated; at most STATE_MAX bytes. */
static enum su_err slurp(const char *path, char **out, size_t *len,
			 struct su_error *err)
{
	char *buf = malloc(STATE_MAX + 1);
	size_t n = 0;
	ssize_t r;
	int fd;

	if (!buf)
		return su_error_set(err, SU_ERR_NOMEM, "%s: %m", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		free(buf);
		return su_error_set(err, SU_ERR_IO, "open %s: %m", path);
	}
	while (n <= STATE_MAX &&
	       (r = read(fd, buf + n, STATE_MAX + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			enum su_err rc = su_error_set(err, SU_ERR_IO,
						      "read %s: %m", path);

			close(fd);
			free(buf);
			return rc;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > STATE_MAX) {
		free(buf);
		return invalid(err, path, 0, "larger than %d bytes",
			       STATE_MAX);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return SU_OK;
}

static const struct key *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strlen(keys[i].name) == len &&
		    !memcmp(keys[i].name, name, len))
			return &keys[i];
	return NULL;
}

static int parse_u64(const char *v, uint64_t *out)
{
	uint64_t n = 0;

	if (!*v || (v[0] == '0' && v[1]))
		return -1;
	for (; *v; v++) {
		unsigned d = (unsigned)(*v - '0');

		if (*v < '0' || *v > '9' || n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

static enum su_err parse_line(struct handover_state *s, char *line,
			      const char *path, unsigned no, bool *seen,
			      struct su_error *err)
{
	char *eq = strchr(line, '=');
	const struct key *k;
	const char *v;

	if (!eq)
		return invalid(err, path, no, "expected key=value");
	k = find_key(line, (size_t)(eq - line));
	*eq = '\0';
	if (!k) {
		char shown[SU_SHOWN_SIZE(40)];

		return invalid(err, path, no, "unknown key '%s'",
			       su_shown(shown, 40, line, strlen(line)));
	}
	if (seen[k - keys])
		return invalid(err, path, no, "%s given twice", k->name);
	seen[k - keys] = true;
	v = eq + 1;
	switch (k->kind) {
	case STRING:
		*str_field(s, k) = strdup(v);
		if (!*str_field(s, k))
			return su_error_set(err, SU_ERR_NOMEM, "%s: %m", path);
		break;
	case BOOL:
		if (strcmp(v, "0") && strcmp(v, "1"))
			return invalid(err, path, no, "%s: expected 0 or 1",
				       k->name);
		*bool_field(s, k) = v[0] == '1';
		break;
	case U64:
		if (parse_u64(v, &s->event_id))
			return invalid(err, path, no,
				       "%s: expected a decimal number",
				       k->name);
		break;
	}
	return SU_OK;
}

static enum su_err parse_state(struct handover_state *s, char *buf,
			       size_t len, const char *path,
			       struct su_error *err)
{
	bool seen[N_KEYS] = { false };
	const char *bad;
	unsigned no = 0;
	char *line = buf;
	enum su_err rc;

	/* A file cut short by a power cut ends without its newline. */
	if (!len || buf[len - 1] != '\n')
		return invalid(err, path, 0,
			       "truncated: no newline at the end");
	while (line < buf + len) {
		char *nl = strchr(line, '\n');

		*nl = '\0';
		no++;
		bad = control_char(line, (size_t)(nl - line));
		if (bad)
			return invalid(err, path, no,
				       "control character 0x%02x",
				       (unsigned char)*bad);
		if (no == 1) {
			if (strcmp(line, HANDOVER_MAGIC))
				return invalid(err, path, 1,
					       "not a handover state: expected '%s'",
					       HANDOVER_MAGIC);
		} else {
			rc = parse_line(s, line, path, no, seen, err);
			if (rc)
				return rc;
		}
		line = nl + 1;
	}
	for (size_t i = 0; i < N_KEYS; i++)
		if (!seen[i])
			return invalid(err, path, 0, "%s is missing",
				       keys[i].name);
	return SU_OK;
}

enum su_err handover_state_read(const char *path, struct handover_state *s,
				struct su_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	enum su_err rc;

	memset(s, 0, sizeof(*s));
	rc = slurp(path, &buf, &len, err);
	if (rc)
		return rc;
	/* A NUL would hide the rest of its line from strchr. */
	if (memchr(buf, '\0', len))
		rc = invalid(err, path, 0, "control character 0x00");
	else
		rc = parse_state(s, buf, len, path, err);
	free(buf);
	if (rc)
		handover_state_free(s);
	return rc;
}

void handover_state_free(struct handover_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].kind == STRING)
			free(*str_field(s, &keys[i]));
	memset(s, 0, sizeof(*s));
}

/* ---- memory ---- */

/* "MemAvailable:   123456 kB": the digits, then exactly the unit. */
static int parse_meminfo_kb(const char *v, uint64_t *bytes)
{
	uint64_t kb = 0;

	v += strspn(v, " \t");
	if (*v < '0' || *v > '9')
		return -1;
	for (; *v >= '0' && *v <= '9'; v++) {
		unsigned d = (unsigned)(*v - '0');

		if (kb > (UINT64_MAX / 1024 - d) / 10)
			return -1;
		kb = kb * 10 + d;
	}
	if (strcmp(v, " kB\n") && strcmp(v, " kB"))
		return -1;
	*bytes = kb * 1024;
	return 0;
}

enum su_err handover_mem_available(const struct config *cfg, uint64_t *bytes,
				   struct su_error *err)
{
	const char *path = cfg->meminfo;
	bool found = false;
	enum su_err rc;
	char line[256];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return su_error_set(err, SU_ERR_IO, "open %s: %m", path);
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "MemAvailable:", 13);
	if (ferror(f))
		rc = su_error_set(err, SU_ERR_IO, "read %s: %m", path);
	else if (!found)
		rc = su_error_set(err, SU_ERR_IO,
				  "%s: no MemAvailable line (Linux >= 3.14 has one)",
				  path);
	else if (parse_meminfo_kb(line + 13, bytes))
		rc = su_error_set(err, SU_ERR_IO,
				  "%s: MemAvailable is not 'N kB'", path);
	else
		rc = SU_OK;
	fclose(f);
	return rc;
}

char *handover_path_list(const char *list, const char *prefix, bool canonical)
{
	char *copy = strdup(list), *out = NULL, *save = NULL;
	const char *sep = "";
	size_t len;
	FILE *m = copy ? open_memstream(&out, &len) : NULL;

	if (!m) {
		free(copy);
		return NULL;
	}
	for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		char *real = canonical ? realpath(p, NULL) : NULL;

		fprintf(m, "%s%s%s", sep, prefix, real ? real : p);
		sep = ":";
		free(real);
	}
	free(copy);
	return fclose(m) ? NULL : out;
}

char *handover_procd_argv(const char *root, const char *state,
			  char *argv[HANDOVER_PROCD_ARGC + 1])
{
	json_object *o = json_object_new_object();
	char *msg = NULL;

	/* json-c escapes what the paths hold; force: the state file is no
	 * OpenWrt image, which validate_firmware_image calls invalid */
	if (o && !json_object_object_add(o, "prefix", json_object_new_string(root)) &&
	    !json_object_object_add(o, "path", json_object_new_string(state)) &&
	    !json_object_object_add(o, "force", json_object_new_boolean(1)))
		msg = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	argv[0] = "ubus";
	argv[1] = "call";
	argv[2] = "system";
	argv[3] = "sysupgrade";
	argv[4] = msg;
	argv[5] = NULL;
	return msg;
}
