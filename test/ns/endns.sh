#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns.end: what the in-place handover relies on, seen in the rig's
# namespace (never on the host):
#  1. busybox init, on SIGQUIT, TERMs the rest (the dummy service stops
#     gracefully), kills what is left, and execs its ::restart: program
#     as PID 1, alone in the namespace;
#  2. `reboot -f` from PID 1 ends the namespace: unshare exits 129 (its
#     init died of SIGHUP);
#  3. s6: `s6-svscanctl -b` makes s6-svscan exec .s6-svscan/finish as
#     PID 1 at once, in the scan directory, with the supervisors still
#     running; a finish replaced by rename just before is the one run;
#  4. exec: contrib/init/exec/init.sh as PID 1 execs its stage-2 command
#     as PID 1 on SIGUSR1 (what its handover_command sends).
# Each namespace ends leaving no mount and no loop device.
set -euo pipefail
. "$SU_TEST_SRC/ns/lib.sh"

rig_init
need s6-svscan

# The marker script: who runs it, how many other processes are alive
# and how many are zombies (init's children it has not reaped), then
# reboot -f from PID 1.
marker_script() {
	cat <<EOS
#!/bin/sh
live=0
zombies=0
for p in /proc/[0-9]*; do
	[ "\$p" != /proc/\$\$ ] || continue
	read -r _ _ st _ 2>/dev/null <\$p/stat || continue
	if [ "\$st" = Z ]; then zombies=\$((zombies + 1)); else live=\$((live + 1)); fi
done
read -r up _ </proc/uptime
echo "$1: pid \$\$ others \$live zombies \$zombies cwd \$PWD uptime \$up" >/host/$1.marker
exec reboot -f
EOS
}

# ---- 1, 2: busybox init's ::restart: ----
rig_rootfs bb 1.0.0 "$RIG_BUILD"
marker_script restart | rig_script bb /usr/bin/rig-restart
sed -i 's|^::restart:.*|::restart:/usr/bin/rig-restart|' bb/etc/inittab
rig_image bb.img bb
loop=$(rig_loop bb.img)
rig_boot "$loop" console-busybox.log
rig_wait_https
rig_heartbeat
rig_signal QUIT
rig_wait_end "$RIG_PID" 30
assert_eq 129 "$RIG_STATUS" "unshare's exit status after reboot -f"
[ -f "$RIG_HOST/restart.marker" ] ||
	fail "the ::restart: program left no marker: $(tail -n 20 console-busybox.log)"
read -r _ _ pid _ others _ zombies _ <"$RIG_HOST/restart.marker"
assert_eq 1 "$pid" "the ::restart: program's pid"
assert_eq 0 "$others" "other live processes when ::restart: runs"
grep -q '^dummy-service: stopped gracefully' "$RIG_HOST/dummy.log" ||
	fail "the dummy service was not TERMed first: $(cat "$RIG_HOST/dummy.log")"
pass "SIGQUIT: busybox init TERMs the rest, then execs ::restart: as PID 1, alone ($zombies zombies to reap)"
pass "reboot -f from PID 1 ends the namespace with status 129"
rig_unloop "$loop"
rig_check_log console-busybox.log

# ---- 3: s6-svscan's finish ----
rig_rootfs s6 1.0.0 "$RIG_BUILD" s6
rig_image s6.img s6
loop=$(rig_loop s6.img)
rig_boot "$loop" console-s6.log
rig_wait_https
rig_heartbeat
finish=$(rig_nsfile /run/service/.s6-svscan/finish)
marker_script finish >"$finish.new"
chmod 0755 "$finish.new"
mv "$finish.new" "$finish"
rig_ns s6-svscanctl -b /run/service
rig_wait_end "$RIG_PID" 30
assert_eq 129 "$RIG_STATUS" "unshare's exit status after finish's reboot -f"
[ -f "$RIG_HOST/finish.marker" ] ||
	fail "the replaced finish left no marker: $(tail -n 20 console-s6.log)"
! [ -f "$RIG_HOST/finish.log" ] || fail "the rig's own finish ran, not the replaced one"
read -r _ _ pid _ others _ zombies _ cwd _ <"$RIG_HOST/finish.marker"
assert_eq 1 "$pid" "finish's pid"
assert_eq /run/service "$cwd" "finish's working directory"
[ "$others" -gt 0 ] || fail "-b: no supervisor left when finish runs"
pass "s6-svscanctl -b: the replaced finish runs as PID 1 in /run/service, $others processes still alive"
rig_unloop "$loop"
rig_check_log console-s6.log

# ---- 4: the exec method's example init ----
rig_rootfs ex 1.0.0 "$RIG_BUILD"
rm ex/sbin/init ex/etc/inittab
sed 's|^STAGE2=.*|STAGE2=/usr/bin/rig-handover|' \
	"$RIG_REPO/contrib/init/exec/init.sh" | rig_script ex /sbin/init
grep -q '^STAGE2=/usr/bin/rig-handover$' ex/sbin/init ||
	fail "contrib/init/exec/init.sh has no STAGE2= line"
marker_script handover | rig_script ex /usr/bin/rig-handover
rig_script ex /etc/init.d/rcS <<'EOS'
#!/bin/sh
/usr/bin/rig-services start
/usr/sbin/sysupgraded -c /etc/sysupgraded.conf --foreground -v &
EOS
sed -i 's/^handover = .*/handover = exec\nhandover_command = \/bin\/kill -s USR1 1/' \
	ex/etc/sysupgraded.conf
rig_image ex.img ex
loop=$(rig_loop ex.img)
rig_boot "$loop" console-exec.log
rig_wait_https
rig_heartbeat
assert_eq "/bin/sh /sbin/init" "$(tr '\0' ' ' <"/proc/$RIG_NSPID/cmdline" | sed 's/ $//')" \
	"PID 1 of the namespace (init.sh as /sbin/init)"
rig_signal USR1
rig_wait_end "$RIG_PID" 30
assert_eq 129 "$RIG_STATUS" "unshare's exit status after the handover's reboot -f"
[ -f "$RIG_HOST/handover.marker" ] ||
	fail "init.sh did not exec its stage-2 command: $(tail -n 20 console-exec.log)"
read -r _ _ pid _ others _ <"$RIG_HOST/handover.marker"
assert_eq 1 "$pid" "the stage-2 command's pid"
[ "$others" -gt 0 ] || fail "init.sh stopped the services itself"
pass "exec: init.sh execs the stage-2 command as PID 1 on SIGUSR1, $others processes still alive"
rig_unloop "$loop"
rig_assert_clean
rig_check_log console-exec.log
pass "each namespace ended without a mount or a loop device left"
