#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.inplace-s6: ns.inplace with s6-svscan as PID 1 (Debian's s6): the
# handover goes through .s6-svscan/finish and `s6-svscanctl -b`.
RIG_INIT=s6 exec bash "$(dirname "$0")/inplace.sh"
