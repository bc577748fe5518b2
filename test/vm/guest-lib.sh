# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for guest scenarios; every initramfs carries this file as
# /lib/su-guest.sh, and a scenario sources it: `. /lib/su-guest.sh`.

# refused MESSAGE CMD...: CMD fails and its stderr says MESSAGE.
refused() {
	want=$1
	shift
	if "$@" 2>/tmp/err; then
		echo "FAIL: $* succeeded"
		exit 1
	fi
	cat /tmp/err
	grep -qF "$want" /tmp/err || { echo "FAIL: no '$want' in the error"; exit 1; }
	echo "ok: refused with '$want'"
}
