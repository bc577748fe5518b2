/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TAR_H
#define SU_TAR_H

#include <stdbool.h>

#include "error.h"

#define TAR_RAW_MESSAGE	500	/* an extraction's message before su_shown() */

/* How an extraction went: in a shared page when a child runs it. */
struct tar_report {
	char message[SU_SHOWN_SIZE(TAR_RAW_MESSAGE)];
	bool root_entry;	/* the archive lists "." */
};

/* Extract the tar stream read from @fd into the directory @root, with
 * the tar backend's rules (no absolute names, no "..", no symlink
 * followed, device nodes only with @allow_devices). The tar backend
 * runs it in a forked child; test/fuzz/fuzz_tar_extract in-process.
 * Changes the working directory and the umask. Returns 0, or -1 with
 * @report->message set. */
int tar_extract(int fd, const char *root, bool allow_devices,
		struct tar_report *report);

#endif
