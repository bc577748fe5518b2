#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A minimal PID 1 in shell (init=/sbin/init.sh, or an initramfs's /init
# that stays PID 1): start the services, reap orphans, and exec
# sysupgraded's stage 2 when stage 1 sends SIGUSR1. With it:
#   [install]
#   handover = exec
#   handover_command = /bin/kill -s USR1 1
# Stage 2 kills whatever still runs when it takes over.
STAGE2="/usr/sbin/sysupgraded --stage2 /run/sysupgraded/root/handover.state"

# PID 1 gets only the signals it has a handler for: these are the ones.
trap 'exec $STAGE2' USR1
trap 'exec reboot -f' TERM

/etc/init.d/rcS

# `wait` returns when a trapped signal arrives, and reaps every child,
# the orphans this process inherits included.
while :; do
	sleep 60 &
	wait
done
