/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_CONFIG_H
#define SU_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * The device configuration, /etc/sysupgraded.conf (INI, parsed by inih).
 * Every key is documented in README.md and in contrib/sysupgraded.conf.
 * Strings are owned by the struct config; config_free() frees them all.
 */

#define CONFIG_DEFAULT_PATH "/etc/sysupgraded.conf"
/* Stage 2's working memory beyond the ramfs and the bundle (admission);
 * measured in test/bench/RESULTS.md, [install] stage2_memory overrides. */
#define CONFIG_STAGE2_MEMORY (6ULL << 20)

/* One backend-specific key of a [target:NAME] section, e.g. mkfs = yes. */
struct config_option {
	char *key;
	char *value;
};

struct config_target {
	char *name;		/* NAME of [target:NAME] */
	char *type;		/* backend name: mtd, ubi, ext4, tar */
	char *device;		/* single-slot device; NULL for A/B */
	char *slot_device[2];	/* A/B: devices of slots a and b */
	char *slot_var;		/* A/B: U-Boot variable naming the active slot */
	char *slot_value[2];	/* values of slot_var for a and b ("a", "b") */
	bool readback;		/* verify = readback */
	bool in_use;		/* the running system lives here: in-place */
	bool critical;		/* its loss matters: written under the marker */
	struct config_option *options;	/* every other key, for the backend */
	size_t n_options;
};

struct config_listen {
	char *address;		/* "0.0.0.0:8443", "[::]:8443" */
	bool tls;
};

struct config {
	char *path;		/* the file read */

	/* [device] */
	char *compatible;
	char *version;		/* literal running version, or NULL */
	char *version_file;	/* file whose first line is the version */
	char *keys_dir;
	char *fw_env_config;
	char *upgrade_available_var;	/* set to 1 after an install */
	char *bootcount_var;		/* set to 0 after an install */
	char *transaction_var;		/* set while flash is being written */
	char *cmdline;			/* the kernel command line file */
	char *booted_slot_arg;		/* kernel argument naming the booted slot */
	char *meminfo;			/* MemAvailable is read here (admission) */

	/* [server] */
	struct config_listen *listen;
	size_t n_listen;
	char *tls_cert;
	char *tls_key;
	char *client_ca;
	char **token_sha256;	/* lower-case hex SHA-256 of each token */
	size_t n_tokens;
	bool info_public;
	bool http_token;		/* bearer tokens accepted over plain HTTP */
	char *www_dir;
	unsigned max_connections;
	unsigned connection_timeout;	/* seconds */

	/* [staging] */
	char *staging_dir;
	uint64_t staging_max;	/* bytes; 0 = MemAvailable decides */

	/* [install] */
	char *handover;		/* none, busybox, s6, systemd, exec */
	char *handover_command;
	char *stop_command;	/* stops services before the handover */
	char *start_command;	/* starts them again when it fails */
	unsigned stop_timeout;	/* seconds the stop command may take */
	char *s6_scandir;	/* handover = s6: s6-svscan's scan directory */
	char *reboot_command;
	char **keep;		/* paths and globs kept across an in-place upgrade */
	size_t n_keep;
	char *keep_d;		/* directory of files listing more of them */
	char *keep_target;	/* target the kept files go to (default: in_use) */
	char *keep_path;	/* directory inside it (default "/") */
	char **extra_files;	/* more files for the stage-2 ramfs */
	size_t n_extra_files;
	char *last_install;	/* "bootenv", "file:PATH" or "none" */
	char *last_install_var;	/* bootenv variable for last_install = bootenv */
	char *watchdog;		/* device stage 2 keeps fed, or NULL */
	uint64_t stage2_memory;	/* stage 2's working memory (admission) */

	struct config_target *targets;
	size_t n_targets;
};

/*
 * Read and validate @path. Unknown sections and keys outside [target:*]
 * are errors (a typo must not pass silently); a target's unknown keys are
 * kept as options for its backend, which checks them.
 * Errors: SU_ERR_CONFIG with "FILE:LINE: why".
 * On success *@out is a new config freed with config_free().
 */
enum su_err config_load(const char *path, struct config **out,
			struct su_error *err);

void config_free(struct config *c);

/* The target called @name, or NULL. */
const struct config_target *config_find_target(const struct config *c,
					       const char *name);

/* A backend option's value, or NULL when not set. */
const char *config_target_option(const struct config_target *t,
				 const char *key);

/* A boolean backend option: yes/true/1 or no/false/0; @def when unset. */
bool config_target_flag(const struct config_target *t, const char *key,
			bool def);

/* True when the target has two slots. */
bool config_target_is_ab(const struct config_target *t);

/*
 * The running version: [device] version, else the first line of
 * version_file. Returns a malloc'd string (caller frees) or NULL with
 * @err set.
 */
char *config_running_version(const struct config *c, struct su_error *err);

/* Parse "512M", "1G", "4096", "64KiB" into bytes; -1 on error. */
int config_parse_size(const char *s, uint64_t *out);

#endif
