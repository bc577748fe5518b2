/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_mounts.h"

/* Undo mountinfo's octal escapes (\040 space, \011 tab, \012, \134) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * Split one mountinfo line: "ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...]
 * - FSTYPE SOURCE SUPEROPTS". Returns 0 with pointers into @line.
 */
static int split(char *line, char **point, char **fstype, char **source)
{
	char *save = NULL, *tok;
	int field = 0;
	bool dash = false;

	*point = *fstype = *source = NULL;
	for (tok = strtok_r(line, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save), field++) {
		if (field == 4) {
			*point = tok;
		} else if (dash && !*fstype) {
			*fstype = tok;
		} else if (dash) {
			*source = tok;
			break;
		} else if (field > 5 && !strcmp(tok, "-")) {
			dash = true;
		}
	}
	return *point && *fstype && *source ? 0 : -1;
}

int flash_mount_find(const char *mountinfo, flash_mount_match_fn match,
		     void *ctx, char *where, size_t where_len,
		     char *fstype, size_t fstype_len)
{
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	f = fopen(mountinfo, "re");
	if (!f)
		return -1;
	while (!found && getline(&line, &cap, f) > 0) {
		char *point, *type, *source;

		if (split(line, &point, &type, &source))
			continue;
		unescape(point);
		unescape(source);
		if (!match(source, type, ctx))
			continue;
		if (where)
			snprintf(where, where_len, "%s", point);
		if (fstype)
			snprintf(fstype, fstype_len, "%s", type);
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}
