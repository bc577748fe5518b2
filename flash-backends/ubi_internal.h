/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_UBI_INTERNAL_H
#define SU_UBI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

/*
 * The parts of the ubi backend (ubi.c) that need no kernel, for
 * test/unit/test_backend_ubi.c. Nothing but ubi.c and that test includes
 * this header.
 */

/* The target options ubi.c reads; see the comment at its top. */
struct ubib_opts {
	bool create;		/* create the volume when it is missing */
	bool resize;		/* grow a volume too small for the image */
	uint64_t volume_size;	/* create/grow to this; 0 = image size */
	int vol_type;		/* UBI_DYNAMIC_VOLUME or UBI_STATIC_VOLUME */
	bool type_set;		/* volume_type was given */
	const char *rename_to;	/* swap names with this volume; or NULL */
};

/*
 * Read and check @t's options (@t may be NULL: all defaults). Unknown
 * keys, flags that are not yes/no, sizes that do not parse, a type other
 * than dynamic or static and a rename_to that is no volume name are
 * SU_ERR_CONFIG. Strings point into @t.
 */
enum su_err ubib_parse_options(const struct config_target *t,
			       struct ubib_opts *o, struct su_error *err);

/*
 * Parse a target device: "ubiX:NAME" sets *@dev = X, *@name (pointing
 * into @spec) and *@vol_id = -1; "/dev/ubiX_Y" and "ubiX_Y" set *@dev = X,
 * *@vol_id = Y and *@name = NULL. Returns 0, or -1 when @spec is none of
 * these.
 */
int ubib_parse_device(const char *spec, int *dev, int *vol_id,
		      const char **name);

/*
 * Whether a mount @source (as in mountinfo) names volume @vol_id called
 * @name of UBI device @dev, in any of the spellings UBIFS accepts (ubiX_Y,
 * ubiY, ubiX:NAME, ubi:NAME, '!' for ':', /dev/ubiX_Y) or as the UBI
 * block device /dev/ubiblockX_Y. Other paths are the caller's to stat.
 */
bool ubib_source_is_volume(const char *source, int dev, int vol_id,
			   const char *name);

/*
 * The bytes to reserve for an image of @size bytes when creating or
 * growing a volume with LEBs of @leb_size: volume_size when set, else
 * @size rounded up to whole LEBs, and at least one LEB.
 */
uint64_t ubib_volume_bytes(const struct ubib_opts *o, uint64_t size,
			   int leb_size);

#endif
