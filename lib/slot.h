/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_SLOT_H
#define SU_SLOT_H

#include "config.h"
#include "error.h"

struct bootenv;

/*
 * A/B slots: the slot booted (a fact of the running system) and the slot
 * to boot (the U-Boot variable) differ after an install and before its
 * reboot. Only the first decides what may be written: never the booted
 * slot.
 */

/*
 * The slot of A/B target @t the running system booted from: 0 (a) or
 * 1 (b). Found, in this order, from
 *  - the kernel argument [device] booted_slot_arg in the file
 *    [device] cmdline, whose value is @t's slot_a_value or slot_b_value;
 *  - the device mounted as / (/proc/self/mountinfo), or the root=
 *    argument, equal to one of @t's slot devices;
 *  - another A/B target with the same slot_var that was found so.
 * Errors: SU_ERR_CONFIG saying which of these were tried and why each
 * gave no answer.
 */
enum su_err slot_booted(const struct config *cfg,
			const struct config_target *t, int *slot,
			struct su_error *err);

/*
 * SU_ERR_REBOOT_PENDING when an install waits for its reboot:
 * upgrade_available_var is set in @env and the slot_var of an A/B target
 * names a slot other than the booted one. A target whose booted slot
 * is unknown is skipped here: planning an install onto it refuses.
 */
enum su_err slot_check_pending(const struct config *cfg, struct bootenv *env,
			       struct su_error *err);

#endif
