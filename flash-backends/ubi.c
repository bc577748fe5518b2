/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubi: an image written to a UBI volume through libubi, as ubiupdatevol
 * does: a volume update (UBI_IOCVOLUP) announces the exact size, then
 * the data follows and the kernel finishes the update after the last
 * byte. UBI keeps its erase counters and wear levelling; nothing is
 * reformatted. Should the write stop half-way, the kernel leaves the
 * volume marked as damaged by an interrupted update, never silently
 * truncated.
 *
 * Target device:
 *   ubiX:NAME     the volume called NAME on UBI device X
 *   /dev/ubiX_Y   or ubiX_Y: volume number Y of UBI device X
 *
 * Target options:
 *   create = yes|no        (default no) create the volume when it does
 *                          not exist (ubiX:NAME only).
 *   volume_size = SIZE     (e.g. 8M) the size to create the volume with,
 *                          or to grow it to with resize; at least the
 *                          image's size. Default: the image's size
 *                          rounded up to whole LEBs.
 *   volume_type = dynamic|static
 *                          (default dynamic) the type of a volume that is
 *                          created; when given, an existing volume of the
 *                          other type is refused.
 *   resize = yes|no        (default no) grow (ubirsvol) a volume too
 *                          small for the image; without it such an image
 *                          is refused before anything is written.
 *   rename_to = NAME       after a successful update, swap names with
 *                          volume NAME in one atomic rename (ubi_rnvols):
 *                          write rootfs_new, and rootfs_new becomes
 *                          rootfs while the old rootfs becomes
 *                          rootfs_new. The new content is read back and
 *                          compared before the rename. Should NAME not
 *                          exist, the volume is just renamed. verify then
 *                          reads the volume now called NAME.
 *
 * A volume that is mounted, or open elsewhere, is refused with a message
 * that says which: "ubi0:rootfs (/dev/ubi0_1): volume is busy: mounted
 * at /mnt (ubifs)".
 */
#include <errno.h>
#include <fcntl.h>
#include <libubi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backend.h"
#include "blockdev.h"
#include "flash_mounts.h"
#include "ubi_internal.h"

#define UBI_IO_BUF	(128u << 10)	/* read-back unit */

/* ---- what needs no kernel (see ubi_internal.h) ---- */

static const char *const known_options[] = {
	"create", "volume_size", "volume_type", "resize", "rename_to", NULL
};
static const char *const flag_options[] = { "create", "resize", NULL };

enum su_err ubib_parse_options(const struct config_target *t,
			       struct ubib_opts *o, struct su_error *err)
{
	const char *v;
	enum su_err rc;

	memset(o, 0, sizeof(*o));
	o->vol_type = UBI_DYNAMIC_VOLUME;
	if (!t)
		return SU_OK;
	rc = blockdev_check_options(t, known_options, flag_options, err);
	if (rc)
		return rc;
	o->create = config_target_flag(t, "create", false);
	o->resize = config_target_flag(t, "resize", false);
	v = config_target_option(t, "volume_size");
	if (v && (config_parse_size(v, &o->volume_size) || !o->volume_size))
		return su_error_set(err, SU_ERR_CONFIG,
				    "target %s: volume_size = '%s' is not a size (e.g. 8M)",
				    t->name, v);
	v = config_target_option(t, "volume_type");
	if (v) {
		o->type_set = true;
		if (!strcmp(v, "dynamic"))
			o->vol_type = UBI_DYNAMIC_VOLUME;
		else if (!strcmp(v, "static"))
			o->vol_type = UBI_STATIC_VOLUME;
		else
			return su_error_set(err, SU_ERR_CONFIG,
					    "target %s: volume_type = '%s' is not dynamic or static",
					    t->name, v);
	}
	v = config_target_option(t, "rename_to");
	if (v && (!*v || strlen(v) > UBI_VOL_NAME_MAX))
		return su_error_set(err, SU_ERR_CONFIG,
				    "target %s: rename_to = '%s' is not a UBI volume name (1 to %d bytes)",
				    t->name, v, UBI_VOL_NAME_MAX);
	o->rename_to = v;
	return SU_OK;
}

/* A decimal number at *@s, without sign or leading junk; advances *@s. */
static int parse_num(const char **s, int *out)
{
	long v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return -1;
	}
	*out = (int)v;
	*s = p;
	return 0;
}

int ubib_parse_device(const char *spec, int *dev, int *vol_id,
		      const char **name)
{
	bool path = !strncmp(spec, "/dev/", 5);
	const char *p = path ? spec + 5 : spec;

	if (strncmp(p, "ubi", 3))
		return -1;
	p += 3;
	if (parse_num(&p, dev))
		return -1;
	if (*p == ':' && !path) {		/* ubiX:NAME */
		if (!p[1] || strlen(p + 1) > UBI_VOL_NAME_MAX)
			return -1;
		*name = p + 1;
		*vol_id = -1;
		return 0;
	}
	if (*p++ != '_' || parse_num(&p, vol_id) || *p)	/* ubiX_Y */
		return -1;
	*name = NULL;
	return 0;
}

bool ubib_source_is_volume(const char *source, int dev, int vol_id,
			   const char *name)
{
	const char *p = source;
	bool path = false;
	int a, b;

	if (!strncmp(p, "/dev/ubiblock", 13)) {
		p += 13;
		return !parse_num(&p, &a) && *p++ == '_' &&
		       !parse_num(&p, &b) && !*p && a == dev && b == vol_id;
	}
	if (!strncmp(p, "/dev/", 5)) {
		p += 5;
		path = true;
	}
	if (strncmp(p, "ubi", 3))
		return false;
	p += 3;
	if (!path && (*p == ':' || *p == '!'))		/* ubi:NAME, device 0 */
		return dev == 0 && !strcmp(p + 1, name);
	if (parse_num(&p, &a))
		return false;
	if (!*p)					/* ubiY, device 0 */
		return !path && dev == 0 && a == vol_id;
	if (*p == '_') {				/* ubiX_Y */
		p++;
		return !parse_num(&p, &b) && !*p && a == dev && b == vol_id;
	}
	if (!path && (*p == ':' || *p == '!'))		/* ubiX:NAME */
		return a == dev && !strcmp(p + 1, name);
	return false;
}

uint64_t ubib_volume_bytes(const struct ubib_opts *o, uint64_t size,
			   int leb_size)
{
	uint64_t leb = (uint64_t)leb_size;
	uint64_t bytes = (size + leb - 1) / leb * leb;

	if (!bytes)
		bytes = leb;
	return o->volume_size > bytes ? o->volume_size : bytes;
}

/* ---- the volume, through libubi ---- */

struct ubi_vol {
	libubi_t lib;
	struct ubi_vol_info info;
	char dev_node[24];	/* /dev/ubiX */
	char node[32];		/* /dev/ubiX_Y */
	char label[UBI_VOL_NAME_MAX + 64];
};

static void set_label(struct ubi_vol *v)
{
	snprintf(v->node, sizeof(v->node), "/dev/ubi%d_%d", v->info.dev_num,
		 v->info.vol_id);
	snprintf(v->label, sizeof(v->label), "ubi%d:%s (%s)", v->info.dev_num,
		 v->info.name, v->node);
}

struct mount_want {
	int dev, vol_id;
	const char *name;
	dev_t rdev;		/* of the volume's character device */
};

static bool mount_is_volume(const char *source, const char *fstype, void *ctx)
{
	const struct mount_want *w = ctx;
	struct stat st;

	(void)fstype;
	if (ubib_source_is_volume(source, w->dev, w->vol_id, w->name))
		return true;
	/* UBIFS also takes any path to the volume's character device. */
	return source[0] == '/' && !stat(source, &st) && S_ISCHR(st.st_mode) &&
	       st.st_rdev == w->rdev;
}

/* The kernel said EBUSY: find out whether it is a mount, and say so. */
static enum su_err busy_error(const struct ubi_vol *v, struct su_error *err)
{
	struct mount_want want = {
		.dev = v->info.dev_num,
		.vol_id = v->info.vol_id,
		.name = v->info.name,
		.rdev = makedev(v->info.major, v->info.minor),
	};
	char where[256], type[64];
	int r;

	r = flash_mount_find("/proc/self/mountinfo", mount_is_volume, &want,
			     where, sizeof(where), type, sizeof(type));
	if (r > 0)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "mounted",
				     "%s: volume is busy: mounted at %s (%s)",
				     v->label, where, type);
	if (!r)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "busy",
				     "%s: volume is busy: open by another process (it is not mounted here)",
				     v->label);
	return su_error_setd(err, SU_ERR_WRITE_FAILED, "busy",
			     "%s: volume is busy: mounted or open by another process",
			     v->label);
}

/* Refuse a mounted volume before touching it (resize, update). */
static enum su_err refuse_mounted(const struct ubi_vol *v, struct su_error *err)
{
	struct mount_want want = {
		.dev = v->info.dev_num,
		.vol_id = v->info.vol_id,
		.name = v->info.name,
		.rdev = makedev(v->info.major, v->info.minor),
	};

	if (flash_mount_find("/proc/self/mountinfo", mount_is_volume, &want,
			     NULL, 0, NULL, 0) > 0)
		return busy_error(v, err);
	return SU_OK;
}

static void ubi_vol_close(struct ubi_vol *v)
{
	if (v->lib)
		libubi_close(v->lib);
	v->lib = NULL;
}

static enum su_err create_volume(struct ubi_vol *v, int dev, const char *name,
				 uint64_t size, const struct ubib_opts *o,
				 struct su_error *err)
{
	struct ubi_mkvol_request req;
	struct ubi_dev_info di;
	uint64_t bytes;

	if (ubi_get_dev_info1(v->lib, dev, &di))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "ubi%d: cannot read the UBI device's information: %m",
				    dev);
	bytes = ubib_volume_bytes(o, size, di.leb_size);
	if (bytes > (uint64_t)di.avail_bytes)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "too_large",
				     "ubi%d:%s: cannot create a volume of %llu bytes: ubi%d has %lld bytes free",
				     dev, name, (unsigned long long)bytes, dev,
				     di.avail_bytes);
	memset(&req, 0, sizeof(req));
	req.vol_id = UBI_VOL_NUM_AUTO;
	req.alignment = 1;
	req.bytes = (long long)bytes;
	req.vol_type = o->vol_type;
	req.name = name;
	if (ubi_mkvol(v->lib, v->dev_node, &req))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "ubi%d:%s: cannot create the volume (%llu bytes, %s): %m",
				    dev, name, (unsigned long long)bytes,
				    o->vol_type == UBI_STATIC_VOLUME ? "static" : "dynamic");
	return SU_OK;
}

/*
 * Find the volume @spec names (creating it when @o allows and @o is not
 * NULL) and fill @v.
 */
static enum su_err ubi_vol_find(const char *spec, const struct ubib_opts *o,
				uint64_t size, struct ubi_vol *v,
				struct su_error *err)
{
	const char *name;
	int dev, vol_id, r;
	enum su_err rc;

	memset(v, 0, sizeof(*v));
	if (ubib_parse_device(spec, &dev, &vol_id, &name))
		return su_error_set(err, SU_ERR_CONFIG,
				    "device '%s' is not ubiX:NAME or /dev/ubiX_Y",
				    spec);
	v->lib = libubi_open();
	if (!v->lib) {
		if (!errno)
			return su_error_setd(err, SU_ERR_WRITE_FAILED, "no_device",
					     "%s: this kernel has no UBI (no /sys/class/ubi; load the ubi module)",
					     spec);
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot open libubi: %m", spec);
	}
	snprintf(v->dev_node, sizeof(v->dev_node), "/dev/ubi%d", dev);
	if (!ubi_dev_present(v->lib, dev)) {
		rc = su_error_setd(err, SU_ERR_WRITE_FAILED, "no_device",
				   "%s: there is no UBI device ubi%d (attach the MTD device first)",
				   spec, dev);
		goto fail;
	}
	if (name)
		r = ubi_get_vol_info1_nm(v->lib, dev, name, &v->info);
	else
		r = ubi_get_vol_info1(v->lib, dev, vol_id, &v->info);
	if (r && (errno == ENOENT || errno == ENODEV) && name && o && o->create) {
		rc = create_volume(v, dev, name, size, o, err);
		if (rc)
			goto fail;
		r = ubi_get_vol_info1_nm(v->lib, dev, name, &v->info);
	}
	if (r && (errno == ENOENT || errno == ENODEV)) {
		rc = su_error_setd(err, SU_ERR_WRITE_FAILED, "no_device",
				   "%s: no such volume on ubi%d%s", spec, dev,
				   name && o ? " (set create = yes to create it)" : "");
		goto fail;
	}
	if (r) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED,
				  "%s: cannot read the volume's information: %m",
				  spec);
		goto fail;
	}
	set_label(v);
	return SU_OK;
fail:
	ubi_vol_close(v);
	return rc;
}

/* Grow the volume to hold @size bytes, when allowed; refuse otherwise. */
static enum su_err fit_volume(struct ubi_vol *v, const struct ubib_opts *o,
			      uint64_t size, struct su_error *err)
{
	struct ubi_dev_info di;
	uint64_t bytes;

	if (size <= (uint64_t)v->info.rsvd_bytes)
		return SU_OK;
	if (!o->resize)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "too_large",
				     "%s: image of %llu bytes does not fit the volume's %lld bytes (set resize = yes to grow it)",
				     v->label, (unsigned long long)size,
				     v->info.rsvd_bytes);
	if (ubi_get_dev_info1(v->lib, v->info.dev_num, &di))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot read ubi%d's information: %m",
				    v->label, v->info.dev_num);
	bytes = ubib_volume_bytes(o, size, v->info.leb_size);
	if (bytes - (uint64_t)v->info.rsvd_bytes > (uint64_t)di.avail_bytes)
		return su_error_setd(err, SU_ERR_WRITE_FAILED, "too_large",
				     "%s: cannot grow the volume from %lld to %llu bytes: ubi%d has %lld bytes free",
				     v->label, v->info.rsvd_bytes,
				     (unsigned long long)bytes, v->info.dev_num,
				     di.avail_bytes);
	if (ubi_rsvol(v->lib, v->dev_node, v->info.vol_id, (long long)bytes)) {
		if (errno == EBUSY)
			return busy_error(v, err);
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot grow the volume from %lld to %llu bytes: %m",
				    v->label, v->info.rsvd_bytes,
				    (unsigned long long)bytes);
	}
	if (ubi_get_vol_info1(v->lib, v->info.dev_num, v->info.vol_id, &v->info))
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot read the volume's information after growing it: %m",
				    v->label);
	return SU_OK;
}

/* SHA-256 of the first @size bytes of the volume. */
static enum su_err read_digest(const struct ubi_vol *v, uint64_t size,
			       uint8_t out[DIGEST_LEN], struct su_error *err)
{
	uint64_t left = size;
	enum su_err rc = SU_OK;
	struct digest d;
	uint8_t *buf;
	int fd;

	buf = malloc(UBI_IO_BUF);
	if (!buf)
		return su_error_set(err, SU_ERR_NOMEM, "%s: out of memory",
				    v->label);
	fd = open(v->node, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED,
				  "open %s for the read-back: %m", v->label);
		goto out;
	}
	digest_init(&d);
	while (left) {
		size_t want = left < UBI_IO_BUF ? (size_t)left : UBI_IO_BUF;
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = su_error_set(err, SU_ERR_WRITE_FAILED,
					  "%s: read-back at byte %llu: %s",
					  v->label,
					  (unsigned long long)(size - left),
					  n ? strerror(errno) : "end of volume");
			goto out;
		}
		digest_update(&d, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	digest_final(&d, out);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* ---- backend ops ---- */

struct ubi_handle {
	struct ubi_vol vol;
	struct ubib_opts opts;
	int fd;
	uint64_t size;
	uint64_t given;
	struct digest d;	/* of the bytes given, for rename_to */
};

static void handle_free(struct ubi_handle *h)
{
	if (h->fd >= 0)
		close(h->fd);	/* mid-update: the kernel marks it damaged */
	ubi_vol_close(&h->vol);
	free(h);
}

/* Open the volume and announce the update; the volume is ours after. */
static enum su_err start_update(struct ubi_handle *h, struct su_error *err)
{
	struct ubi_vol *v = &h->vol;

	h->fd = open(v->node, O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		if (errno == EBUSY)
			return busy_error(v, err);
		return su_error_set(err, SU_ERR_WRITE_FAILED, "open %s: %m",
				    v->label);
	}
	/* The kernel takes the volume exclusively here: EBUSY when anyone
	 * else has it open, even read-only. */
	if (ubi_update_start(v->lib, h->fd, (long long)h->size)) {
		if (errno == EBUSY)
			return busy_error(v, err);
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot start the volume update (%llu bytes): %m",
				    v->label, (unsigned long long)h->size);
	}
	return SU_OK;
}

static enum su_err ubi_open(const struct backend_target *t, uint64_t size,
			    void **handle, struct su_error *err)
{
	struct ubi_handle *h;
	enum su_err rc;

	h = calloc(1, sizeof(*h));
	if (!h)
		return su_error_set(err, SU_ERR_NOMEM, "%s: out of memory",
				    t->device);
	h->fd = -1;
	h->size = size;
	digest_init(&h->d);
	rc = ubib_parse_options(t->cfg, &h->opts, err);
	if (rc) {
		free(h);
		return rc;
	}
	if (h->opts.volume_size && h->opts.volume_size < size) {
		rc = su_error_set(err, SU_ERR_CONFIG,
				  "target %s: volume_size (%llu bytes) is smaller than the image (%llu bytes)",
				  t->cfg->name,
				  (unsigned long long)h->opts.volume_size,
				  (unsigned long long)size);
		free(h);
		return rc;
	}
	rc = ubi_vol_find(t->device, &h->opts, size, &h->vol, err);
	if (rc) {
		free(h);
		return rc;
	}
	if (h->opts.type_set && h->vol.info.type != h->opts.vol_type) {
		rc = su_error_set(err, SU_ERR_CONFIG,
				  "%s: the volume is %s but volume_type says %s",
				  h->vol.label,
				  h->vol.info.type == UBI_STATIC_VOLUME ? "static" : "dynamic",
				  h->opts.vol_type == UBI_STATIC_VOLUME ? "static" : "dynamic");
		goto fail;
	}
	if (h->opts.rename_to && !strcmp(h->opts.rename_to, h->vol.info.name)) {
		rc = su_error_set(err, SU_ERR_CONFIG,
				  "%s: rename_to names the volume itself",
				  h->vol.label);
		goto fail;
	}
	rc = refuse_mounted(&h->vol, err);
	if (rc)
		goto fail;
	rc = fit_volume(&h->vol, &h->opts, size, err);
	if (rc)
		goto fail;
	rc = start_update(h, err);
	if (rc)
		goto fail;
	*handle = h;
	return SU_OK;
fail:
	handle_free(h);
	return rc;
}

static enum su_err ubi_write(void *handle, const void *buf, size_t len,
			     struct su_error *err)
{
	struct ubi_handle *h = handle;
	const uint8_t *p = buf;

	if (len > h->size - h->given)
		return su_error_set(err, SU_ERR_INTERNAL,
				    "%s: more than the announced %llu bytes",
				    h->vol.label, (unsigned long long)h->size);
	if (h->opts.rename_to)
		digest_update(&h->d, buf, len);
	while (len) {
		ssize_t n = write(h->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return su_error_set(err, SU_ERR_WRITE_FAILED,
					    "%s: write at byte %llu: %s",
					    h->vol.label,
					    (unsigned long long)h->given,
					    n ? strerror(errno) : "no progress");
		p += n;
		len -= (size_t)n;
		h->given += (uint64_t)n;
	}
	return SU_OK;
}

/* The A/B swap: one ioctl renames both, or neither. */
static enum su_err rename_volume(struct ubi_handle *h, struct su_error *err)
{
	struct ubi_vol *v = &h->vol;
	const char *to = h->opts.rename_to;
	struct ubi_rnvol_req req;
	struct ubi_vol_info other;

	memset(&req, 0, sizeof(req));
	req.count = 1;
	req.ents[0].vol_id = v->info.vol_id;
	req.ents[0].name_len = (int16_t)strlen(to);
	strcpy(req.ents[0].name, to);
	if (!ubi_get_vol_info1_nm(v->lib, v->info.dev_num, to, &other)) {
		/* Without this second entry the kernel would delete it. */
		req.count = 2;
		req.ents[1].vol_id = other.vol_id;
		req.ents[1].name_len = (int16_t)strlen(v->info.name);
		strcpy(req.ents[1].name, v->info.name);
	} else if (errno != ENOENT && errno != ENODEV) {
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot look up volume %s to swap names with: %m",
				    v->label, to);
	}
	if (ubi_rnvols(v->lib, v->dev_node, &req)) {
		if (errno == EBUSY)
			return busy_error(v, err);
		return su_error_set(err, SU_ERR_WRITE_FAILED,
				    "%s: cannot rename it to %s%s: %m", v->label,
				    to, req.count == 2 ? " (swapping names)" : "");
	}
	return SU_OK;
}

static enum su_err ubi_finish(void *handle, struct su_error *err)
{
	struct ubi_handle *h = handle;
	uint8_t want[DIGEST_LEN], got[DIGEST_LEN];
	enum su_err rc = SU_OK;
	int fd;

	if (h->given != h->size) {
		rc = su_error_set(err, SU_ERR_INTERNAL,
				  "%s: finished after %llu of %llu bytes",
				  h->vol.label, (unsigned long long)h->given,
				  (unsigned long long)h->size);
		goto out;
	}
	fd = h->fd;
	h->fd = -1;
	/* The update is complete with the last byte; fsync flushes the
	 * flash below (ubi_sync), close lets the volume go. */
	if (fsync(fd) < 0 && errno != EINVAL) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "fsync %s: %m",
				  h->vol.label);
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		rc = su_error_set(err, SU_ERR_WRITE_FAILED, "close %s: %m",
				  h->vol.label);
		goto out;
	}
	if (!h->opts.rename_to)
		goto out;
	/* The rename makes the new content the one that boots: only after
	 * it has been read back whole. */
	digest_final(&h->d, want);
	rc = read_digest(&h->vol, h->size, got, err);
	if (rc)
		goto out;
	if (memcmp(want, got, DIGEST_LEN)) {
		rc = su_error_setd(err, SU_ERR_WRITE_FAILED, "readback",
				   "%s: read-back differs from what was written; not renaming it to %s",
				   h->vol.label, h->opts.rename_to);
		goto out;
	}
	rc = rename_volume(h, err);
out:
	handle_free(h);
	return rc;
}

static void ubi_abort(void *handle)
{
	handle_free(handle);
}

static enum su_err ubi_verify(const struct backend_target *t, uint64_t size,
			      const uint8_t sha256[DIGEST_LEN],
			      struct su_error *err)
{
	char spec[UBI_VOL_NAME_MAX + 32];
	const char *name, *to = NULL;
	uint8_t d[DIGEST_LEN];
	struct ubi_vol v;
	int dev, vol_id;
	enum su_err rc;

	/* After rename_to, the written volume goes by the new name. */
	if (t->cfg)
		to = config_target_option(t->cfg, "rename_to");
	if (to && !ubib_parse_device(t->device, &dev, &vol_id, &name) && name) {
		snprintf(spec, sizeof(spec), "ubi%d:%s", dev, to);
		rc = ubi_vol_find(spec, NULL, 0, &v, err);
	} else {
		rc = ubi_vol_find(t->device, NULL, 0, &v, err);
	}
	if (rc)
		return rc;
	rc = read_digest(&v, size, d, err);
	if (!rc)
		rc = backend_check_readback(v.label, size, d, sha256, err);
	ubi_vol_close(&v);
	return rc;
}

const struct backend_ops backend_ubi = {
	.name = "ubi",
	.open = ubi_open,
	.write = ubi_write,
	.finish = ubi_finish,
	.abort = ubi_abort,
	.verify = ubi_verify,
};
