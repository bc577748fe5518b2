/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tmpfs staging: check or mount, limit, write-then-rename. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "staging.h"

#define TEMP_PREFIX ".upload-"

static struct {
	char *dir;
	char *bundle;		/* dir/bundle.tar */
	uint64_t max;
	bool mounted;
} sg;

/*
 * Body pieces come one TLS record (16 KiB) at a time; past the first
 * MiB they are gathered into writes of UPLOAD_BUF, an eighth of the
 * syscalls and of the verifier's wake-ups. The first MiB goes to the
 * file as it comes, so the verifier sees the manifest and signature at
 * once and an early refusal stays early.
 */
#define UPLOAD_BUF	(128 * 1024)
#define UPLOAD_DIRECT	(1024 * 1024)

struct staging_upload {
	int fd;
	char *temp;		/* named temp file, or NULL for O_TMPFILE */
	uint64_t bytes;		/* in the file */
	uint64_t limit;
	char *buf;		/* bytes not yet written, past UPLOAD_DIRECT */
	size_t used;
};

static bool is_ram_fs(const char *dir)
{
	struct statfs s;

	if (statfs(dir, &s))
		return false;
	return s.f_type == TMPFS_MAGIC || s.f_type == RAMFS_MAGIC;
}

static uint64_t mem_available(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

static void remove_stale(void)
{
	DIR *d = opendir(sg.dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) &&
		    !unlinkat(dirfd(d), e->d_name, 0))
			log_notice("removed stale upload %s/%s", sg.dir, e->d_name);
	closedir(d);
}

static enum su_err mount_tmpfs(struct su_error *err)
{
	char opts[64];

	if (sg.max)
		snprintf(opts, sizeof(opts), "size=%" PRIu64 ",mode=0700",
			 sg.max + (1 << 20));
	else
		snprintf(opts, sizeof(opts), "size=50%%,mode=0700");
	if (mount("sysupgraded", sg.dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  opts))
		return su_error_set(err, SU_ERR_IO,
				    "staging %s is not a tmpfs and mounting one there failed: %m",
				    sg.dir);
	sg.mounted = true;
	log_notice("mounted a tmpfs (%s) on %s for staging", opts, sg.dir);
	return SU_OK;
}

enum su_err staging_init(const struct config *cfg, struct su_error *err)
{
	sg.max = cfg->staging_max;
	sg.dir = strdup(cfg->staging_dir);
	if (!sg.dir || asprintf(&sg.bundle, "%s/" STAGING_BUNDLE_NAME, sg.dir) < 0)
		return su_error_set(err, SU_ERR_NOMEM, "staging: %m");
	if (mkdir(sg.dir, 0700) && errno != EEXIST)
		return su_error_set(err, SU_ERR_IO, "mkdir %s: %m", sg.dir);
	if (!is_ram_fs(sg.dir) && mount_tmpfs(err))
		return err->code;
	remove_stale();
	return SU_OK;
}

void staging_shutdown(void)
{
	if (sg.mounted && umount2(sg.dir, MNT_DETACH))
		log_warn("umount %s: %m", sg.dir);
	sg.mounted = false;
	free(sg.dir);
	free(sg.bundle);
	sg.dir = sg.bundle = NULL;
}

const char *staging_bundle_path(void)
{
	return sg.bundle;
}

uint64_t staging_limit(void)
{
	uint64_t share = mem_available() / 4 * 3;

	if (sg.max && (sg.max < share || !share))
		return sg.max;
	return share;
}

uint64_t staging_free(void)
{
	struct statvfs s;

	if (statvfs(sg.dir, &s))
		return 0;
	return (uint64_t)s.f_bavail * s.f_frsize;
}

enum su_err staging_upload_begin(struct staging_upload **out,
				 struct su_error *err)
{
	struct staging_upload *up = calloc(1, sizeof(*up));

	if (!up)
		return su_error_set(err, SU_ERR_NOMEM, "staging upload: %m");
	up->limit = staging_limit();
	up->fd = open(sg.dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (up->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		if (asprintf(&up->temp, "%s/" TEMP_PREFIX "XXXXXX", sg.dir) < 0) {
			free(up);
			return su_error_set(err, SU_ERR_NOMEM, "staging upload: %m");
		}
		up->fd = mkostemp(up->temp, O_CLOEXEC);
	}
	if (up->fd < 0) {
		su_error_set(err, SU_ERR_IO, "create an upload file in %s: %m",
			     sg.dir);
		free(up->temp);
		free(up);
		return err->code;
	}
	*out = up;
	return SU_OK;
}

int staging_upload_fd(const struct staging_upload *up)
{
	return up->fd;
}

static enum su_err write_out(struct staging_upload *up, const char *p,
			     size_t len, struct su_error *err)
{
	while (len) {
		ssize_t n = write(up->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == ENOSPC || errno == EDQUOT))
			return su_error_set(err, SU_ERR_NO_SPACE,
					    "staging %s is full after %" PRIu64 " bytes of the bundle",
					    sg.dir, up->bytes);
		if (n <= 0)
			return su_error_set(err, SU_ERR_IO,
					    "write to staging %s: %m", sg.dir);
		p += n;
		len -= (size_t)n;
		up->bytes += (uint64_t)n;
	}
	return SU_OK;
}

enum su_err staging_upload_flush(struct staging_upload *up,
				 struct su_error *err)
{
	size_t used = up->used;

	up->used = 0;
	return write_out(up, up->buf, used, err);
}

enum su_err staging_upload_write(struct staging_upload *up, const void *buf,
				 size_t len, struct su_error *err)
{
	/* the bundle size limit, as for a Content-Length above it; a full
	 * tmpfs below the limit is no_space */
	if (up->bytes + up->used + len > up->limit)
		return su_error_set(err, SU_ERR_TOO_LARGE,
				    "the bundle is larger than the staging limit of %" PRIu64 " bytes",
				    up->limit);
	if (up->bytes < UPLOAD_DIRECT || (!up->used && len >= UPLOAD_BUF))
		return write_out(up, buf, len, err);
	if (!up->buf && !(up->buf = malloc(UPLOAD_BUF)))
		return su_error_set(err, SU_ERR_NOMEM, "staging buffer: %m");
	while (len) {
		size_t n = UPLOAD_BUF - up->used;

		if (n > len)
			n = len;
		memcpy(up->buf + up->used, buf, n);
		up->used += n;
		buf = (const char *)buf + n;
		len -= n;
		if (up->used == UPLOAD_BUF && staging_upload_flush(up, err))
			return err->code;
	}
	return SU_OK;
}

uint64_t staging_upload_written(const struct staging_upload *up)
{
	return up->bytes;
}

static void staging_upload_free(struct staging_upload *up)
{
	if (up->fd >= 0)
		close(up->fd);
	free(up->buf);
	free(up->temp);
	free(up);
}

void staging_upload_abort(struct staging_upload *up)
{
	if (!up)
		return;
	if (up->temp)
		unlink(up->temp);
	staging_upload_free(up);
}

/* An O_TMPFILE gets a name through /proc/self/fd (no CAP_DAC_READ_SEARCH
 * needed), first a temporary one, then rename() replaces the staged
 * bundle in one step. */
static enum su_err name_tmpfile(struct staging_upload *up, struct su_error *err)
{
	char proc[64];
	char *temp;

	if (asprintf(&temp, "%s/" TEMP_PREFIX "%d", sg.dir, (int)getpid()) < 0)
		return su_error_set(err, SU_ERR_NOMEM, "staging: %m");
	unlink(temp);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", up->fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, temp, AT_SYMLINK_FOLLOW)) {
		su_error_set(err, SU_ERR_IO, "link the upload as %s: %m", temp);
		free(temp);
		return err->code;
	}
	up->temp = temp;
	return SU_OK;
}

enum su_err staging_upload_commit(struct staging_upload *up, int *fd,
				  struct su_error *err)
{
	enum su_err rc = staging_upload_flush(up, err);

	if (!rc && fsync(up->fd) && errno != EINVAL)
		rc = su_error_set(err, SU_ERR_IO, "sync the upload: %m");
	if (!rc && !up->temp)
		rc = name_tmpfile(up, err);
	if (!rc && rename(up->temp, sg.bundle))
		rc = su_error_set(err, SU_ERR_IO, "rename %s to %s: %m",
				  up->temp, sg.bundle);
	if (rc) {
		staging_upload_abort(up);
		return rc;
	}
	*fd = up->fd;
	up->fd = -1;
	staging_upload_free(up);
	return SU_OK;
}

void staging_discard(void)
{
	if (unlink(sg.bundle) && errno != ENOENT)
		log_warn("unlink %s: %m", sg.bundle);
}
