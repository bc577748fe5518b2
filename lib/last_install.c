/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The last install's record: one small JSON object in a U-Boot variable
 * or a file. What is read back is treated as untrusted input: a record
 * written by something else, cut short by a power loss or garbled must
 * give an error that says so, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "beneath.h"
#include "bootenv.h"
#include "last_install.h"

#define TIME_LEN	20	/* 2026-12-02T14:00:00Z */
#define TIME_MAX	253402300799LL	/* 9999-12-31T23:59:59Z */

enum last_install_mode last_install_mode(const struct config *cfg,
					 const char **path)
{
	const char *m = cfg->last_install;

	if (!m)
		return access(cfg->fw_env_config, F_OK) ? LAST_INSTALL_NONE :
			LAST_INSTALL_BOOTENV;
	if (!strcmp(m, "bootenv"))
		return LAST_INSTALL_BOOTENV;
	if (!strncmp(m, "file:", 5)) {
		if (path)
			*path = m + 5;
		return LAST_INSTALL_FILE;
	}
	return LAST_INSTALL_NONE;	/* config.c admits nothing else */
}

/* ---- the record ---- */

void last_install_free(struct last_install *r)
{
	free(r->version);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

/* At most @max bytes of @s, never splitting a UTF-8 sequence. */
static size_t cut(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max)
		return len;
	while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

enum su_err last_install_set(struct last_install *r, const char *version,
			     const struct su_error *failure,
			     struct su_error *err)
{
	memset(r, 0, sizeof(*r));
	r->version = strdup(version);
	r->ok = !failure;
	r->time = (int64_t)time(NULL);
	if (failure) {
		const char *code = su_err_name(failure->code);
		size_t n = strlen(code) + 2;
		size_t len = cut(failure->message, LAST_INSTALL_ERROR_MAX - n);

		r->error = malloc(n + len + 1);
		if (r->error)
			snprintf(r->error, n + len + 1, "%s: %.*s", code,
				 (int)len, failure->message);
	} else {
		r->error = strdup("");
	}
	if (!r->version || !r->error) {
		last_install_free(r);
		return su_error_set(err, SU_ERR_NOMEM, "last_install record: %m");
	}
	return SU_OK;
}

static bool format_time(int64_t t, char out[TIME_LEN + 1])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || t > TIME_MAX || !gmtime_r(&tt, &tm))
		return false;
	return strftime(out, TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) == TIME_LEN;
}

/* Exactly the form format_time() writes, and a date that exists. */
static bool parse_time(const char *s, size_t len, int64_t *t)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
	char again[TIME_LEN + 1];
	struct tm tm = { 0 };
	time_t tt;

	if (len != TIME_LEN)
		return false;
	for (size_t i = 0; i < TIME_LEN; i++)
		if (form[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != form[i])
			return false;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tt = timegm(&tm);
	/* timegm() normalises 02-30 into March: the round trip catches it */
	if (!format_time((int64_t)tt, again) || memcmp(again, s, TIME_LEN))
		return false;
	*t = (int64_t)tt;
	return true;
}

char *last_install_json(const struct last_install *r)
{
	json_object *o;
	char when[TIME_LEN + 1];
	const char *s;
	char *out = NULL;

	if (!format_time(r->time, when))
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "version",
			       json_object_new_string(r->version ? r->version : ""));
	json_object_object_add(o, "result",
			       json_object_new_string(r->ok ? "success" : "failed"));
	json_object_object_add(o, "error",
			       json_object_new_string(r->error ? r->error : ""));
	json_object_object_add(o, "time", json_object_new_string(when));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		out = strdup(s);
	json_object_put(o);
	return out;
}

/* The string member @key of @o: *@s and *@len, or false. */
static bool get_string(json_object *o, const char *key, const char **s,
		       size_t *len)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return false;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return strlen(*s) == *len;	/* no \u0000 inside */
}

static enum su_err from_object(json_object *o, struct last_install *r,
			       struct su_error *err)
{
	const char *version, *result, *error, *when;
	size_t vlen, rlen, elen, wlen;

	if (!json_object_is_type(o, json_type_object))
		return su_error_set(err, SU_ERR_IO, "not a JSON object");
	if (!get_string(o, "version", &version, &vlen) || !vlen)
		return su_error_set(err, SU_ERR_IO,
				    "\"version\" is missing or not a non-empty string");
	if (!get_string(o, "result", &result, &rlen) ||
	    (strcmp(result, "success") && strcmp(result, "failed")))
		return su_error_set(err, SU_ERR_IO,
				    "\"result\" is missing or neither \"success\" nor \"failed\"");
	if (!get_string(o, "error", &error, &elen))
		return su_error_set(err, SU_ERR_IO,
				    "\"error\" is missing or not a string");
	if (!get_string(o, "time", &when, &wlen) ||
	    !parse_time(when, wlen, &r->time))
		return su_error_set(err, SU_ERR_IO,
				    "\"time\" is missing or not a UTC time such as \"2026-12-02T14:00:00Z\"");
	r->ok = !strcmp(result, "success");
	r->version = strdup(version);
	r->error = strdup(error);
	if (!r->version || !r->error)
		return su_error_set(err, SU_ERR_NOMEM, "last_install record: %m");
	return SU_OK;
}

enum su_err last_install_parse(const char *text, size_t len,
			       struct last_install *r, struct su_error *err)
{
	json_tokener *tok;
	json_object *o;
	enum su_err rc;
	size_t end;

	memset(r, 0, sizeof(*r));
	if (len > LAST_INSTALL_MAX)
		return su_error_set(err, SU_ERR_IO,
				    "%zu bytes, more than a record's %d",
				    len, LAST_INSTALL_MAX);
	if (memchr(text, '\0', len))
		return su_error_set(err, SU_ERR_IO, "holds a NUL byte");
	tok = json_tokener_new();
	if (!tok)
		return su_error_set(err, SU_ERR_NOMEM, "json: %m");
	/* what is served again must be valid JSON, and UTF-8 */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (o && end < len && strchr(" \t\r\n", text[end]))
		end++;
	if (!o || end != len) {
		json_object_put(o);
		return su_error_set(err, SU_ERR_IO, "not one JSON object");
	}
	rc = from_object(o, r, err);
	json_object_put(o);
	if (rc)
		last_install_free(r);
	return rc;
}

/* ---- where it lives ---- */

static enum su_err stage(const struct config *cfg, struct bootenv *env,
			 const struct last_install *r, struct su_error *err)
{
	char *json = last_install_json(r);
	enum su_err rc;

	if (!json)
		return su_error_set(err, SU_ERR_NOMEM,
				    "last_install record of %s: out of memory or a time outside 1970-9999",
				    r->version);
	rc = bootenv_set(env, cfg->last_install_var, json, err);
	free(json);
	return rc;
}

enum su_err last_install_stage(const struct config *cfg, struct bootenv *env,
			       const struct last_install *r,
			       struct su_error *err)
{
	if (last_install_mode(cfg, NULL) != LAST_INSTALL_BOOTENV)
		return SU_OK;
	return stage(cfg, env, r, err);
}

static enum su_err write_bootenv(const struct config *cfg,
				 struct bootenv *env,
				 const struct last_install *r,
				 struct su_error *err)
{
	struct bootenv *own = NULL;
	enum su_err rc;

	if (!env && (rc = bootenv_open(cfg->fw_env_config, &own, err)))
		return rc;
	rc = stage(cfg, env ? env : own, r, err);
	rc = rc ? rc : bootenv_commit(env ? env : own, err);
	bootenv_close(own);
	return rc;
}

/*
 * @path in @root as if @root were "/". Without openat2 (before Linux
 * 5.6, or under valgrind 3.19): in the process's own root (@own_root)
 * that is plain resolution; in another (stage 2 writing the new root)
 * beneath_walk(), which refuses a symlink rather than follow one out of
 * it.
 */
static int open_in(int root, bool own_root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));

	if (fd >= 0 || errno != ENOSYS)
		return fd;
	path += strspn(path, "/");
	if (!*path)
		path = ".";
	if (own_root)
		return openat(root, path, flags | O_CLOEXEC);
	return beneath_walk(root, path, flags);
}

/*
 * The directory of @path below @root, made where missing, one component
 * at a time: symlinks resolve inside @root (RESOLVE_IN_ROOT), so that the
 * new root's absolute links point into it, not into stage 2's ramfs.
 * *@name gets the file name in @path.
 */
static enum su_err open_parent(int root, bool own_root, const char *shown,
			       char *path, int *dfd, const char **name,
			       struct su_error *err)
{
	char *slash = strrchr(path, '/');
	char *p = path;
	int fd, saved;

	*name = slash + 1;
	if (!**name)
		return su_error_set(err, SU_ERR_IO,
				    "[install] last_install: %s names no file",
				    shown);
	*slash = '\0';
	fd = open_in(root, own_root, "/", O_DIRECTORY | O_RDONLY);
	while (fd >= 0 && *p) {
		char *comp = p + strspn(p, "/");
		size_t len = strcspn(comp, "/");
		char c = comp[len];
		int next;

		if (!len)
			break;
		comp[len] = '\0';
		if (mkdirat(fd, comp, 0755) && errno != EEXIST) {
			su_error_set(err, SU_ERR_IO, "mkdir %s (for %s): %m",
				     path, shown);
			close(fd);
			*slash = '/';
			return err->code;
		}
		next = open_in(root, own_root, path, O_DIRECTORY | O_RDONLY);
		saved = errno;
		comp[len] = c;
		close(fd);
		fd = next;
		errno = saved;
		p = comp + len;
	}
	*slash = '/';
	if (fd < 0)
		return su_error_set(err, SU_ERR_IO,
				    "open the directory of %s: %m", shown);
	*dfd = fd;
	return SU_OK;
}

static enum su_err write_file(const char *prefix, const char *path,
			      const struct last_install *r,
			      struct su_error *err)
{
	char shown[PATH_MAX], rel[PATH_MAX];
	char *json = NULL;
	const char *name;
	int root, dfd = -1;
	enum su_err rc;

	if (!prefix)
		prefix = "/";
	snprintf(shown, sizeof(shown), "%s%s", strcmp(prefix, "/") ? prefix : "",
		 path);
	if (snprintf(rel, sizeof(rel), "%s", path) >= (int)sizeof(rel))
		return su_error_set(err, SU_ERR_IO, "%s: path too long", path);
	root = open(prefix, O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (root < 0)
		return su_error_set(err, SU_ERR_IO, "open %s (root of %s): %m",
				    prefix, path);
	rc = open_parent(root, !strcmp(prefix, "/"), shown, rel, &dfd, &name,
			 err);
	if (!rc && !(json = last_install_json(r)))
		rc = su_error_set(err, SU_ERR_NOMEM,
				  "last_install record of %s: out of memory or a time outside 1970-9999",
				  r->version);
	if (!rc) {
		/* a line of text: cat shows it whole */
		char *line = realloc(json, strlen(json) + 2);

		if (line) {
			json = line;
			strcat(json, "\n");
		}
		rc = file_replace_at(dfd, name, json, strlen(json), 0644, shown,
				     err);
	}
	free(json);
	if (dfd >= 0)
		close(dfd);
	close(root);
	return rc;
}

enum su_err last_install_write(const struct config *cfg, struct bootenv *env,
			       const char *prefix,
			       const struct last_install *r,
			       struct su_error *err)
{
	const char *path = NULL;

	switch (last_install_mode(cfg, &path)) {
	case LAST_INSTALL_BOOTENV:
		return write_bootenv(cfg, env, r, err);
	case LAST_INSTALL_FILE:
		return write_file(prefix, path, r, err);
	case LAST_INSTALL_NONE:
		break;
	}
	return SU_OK;
}

/* ---- reading it back ---- */

static enum su_err parse_from(const char *text, size_t len, const char *where,
			      struct last_install *r, struct su_error *err)
{
	char why[sizeof(err->message)];
	enum su_err rc = last_install_parse(text, len, r, err);

	if (rc && rc != SU_ERR_NOMEM) {
		memcpy(why, err->message, sizeof(why));
		snprintf(err->message, sizeof(err->message),
			 "last_install record in %.200s is malformed: %.250s",
			 where, why);
	}
	return rc;
}

static enum su_err read_bootenv(const struct config *cfg,
				struct last_install *r, bool *found,
				struct su_error *err)
{
	char where[320];
	struct bootenv *env;
	const char *v;
	enum su_err rc = SU_OK;

	if ((rc = bootenv_open(cfg->fw_env_config, &env, err)))
		return rc;
	v = bootenv_get(env, cfg->last_install_var);
	if (v) {
		snprintf(where, sizeof(where), "variable %.64s of %.200s",
			 cfg->last_install_var, cfg->fw_env_config);
		rc = parse_from(v, strlen(v), where, r, err);
		*found = !rc;
	}
	bootenv_close(env);
	return rc;
}

static enum su_err read_file(const char *path, struct last_install *r,
			     bool *found, struct su_error *err)
{
	char buf[LAST_INSTALL_MAX + 1];
	size_t len = 0;
	enum su_err rc;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return SU_OK;
	if (fd < 0)
		return su_error_set(err, SU_ERR_IO, "open %s: %m", path);
	while (len < sizeof(buf) &&
	       (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			su_error_set(err, SU_ERR_IO, "read %s: %m", path);
			close(fd);
			return err->code;
		}
		len += (size_t)n;
	}
	close(fd);
	rc = parse_from(buf, len, path, r, err);
	*found = !rc;
	return rc;
}

enum su_err last_install_read(const struct config *cfg,
			      struct last_install *r, bool *found,
			      struct su_error *err)
{
	const char *path = NULL;

	memset(r, 0, sizeof(*r));
	*found = false;
	switch (last_install_mode(cfg, &path)) {
	case LAST_INSTALL_BOOTENV:
		return read_bootenv(cfg, r, found, err);
	case LAST_INSTALL_FILE:
		return read_file(path, r, found, err);
	case LAST_INSTALL_NONE:
		break;
	}
	return SU_OK;
}
