#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Boot one VM test under qemu (TCG) and wait for its verdict.
#   test/vm/run.sh -k VMLINUZ -i INITRAMFS -l LOG [--disk FILE]...
#       [--hostfwd 127.0.0.1:HOSTPORT-:GUESTPORT]... [--append ARGS]
#       [--timeout SECS] [--expect-reboot] [--reboot-in-place] [--rng]
#       [--pidfile FILE]
# The console goes to stdout and to LOG. With --reboot-in-place qemu
# runs without -no-reboot: a reboot of the guest starts it again with
# the same kernel, initramfs and disks, as a device's reset would, and
# only a poweroff (or the timeout) ends it. --rng attaches a virtio-rng
# device fed by the host's /dev/urandom (the guest loads virtio_rng):
# under TCG the kernel's own entropy takes a minute or more, and
# systemd and TLS wait for it. --pidfile FILE has qemu write its own
# PID there (qemu's -pidfile), for a test that cuts the power with
# SIGKILL: qemu dies, not timeout(1) around it. Always TCG: /dev/kvm may open here but
# a KVM guest hung after the firmware (a kvm_pvm host). Exit status:
#   0  the guest printed SU-VM-RESULT: PASS (or, with --expect-reboot,
#      printed SU-VM-REBOOTING and qemu then exited)
#   1  the guest printed SU-VM-RESULT: FAIL
#   2  timeout: the guest gave no verdict in SECS (qemu is killed)
#   3  qemu exited without a verdict (or without the expected reboot)
#   64 usage
set -eu

die() {
	echo "run.sh: $*" >&2
	exit 64
}

kernel='' initrd='' log='' append='' disks='' fwds=''
timeout=90 expect_reboot='' no_reboot=-no-reboot rng='' pidfile=''
while [ $# -gt 0 ]; do
	case $1 in
	--expect-reboot) expect_reboot=1; shift; continue ;;
	--rng) rng=1; shift; continue ;;
	--reboot-in-place) no_reboot=''; shift; continue ;;
	esac
	[ $# -ge 2 ] || die "$1 needs a value"
	case $1 in
	-k) kernel=$2 ;;
	-i) initrd=$2 ;;
	-l) log=$2 ;;
	--disk) [ -f "$2" ] || die "disk $2 does not exist"
		disks="$disks $2" ;;
	--hostfwd)
		# Only ever forward from the host's loopback.
		echo "$2" | grep -Eq '^127\.0\.0\.1:[0-9]+-:[0-9]+$' ||
			die "--hostfwd wants 127.0.0.1:HOSTPORT-:GUESTPORT, not '$2'"
		fwds="$fwds,hostfwd=tcp:$2" ;;
	--append) append="$append $2" ;;
	--pidfile) pidfile=$2 ;;
	--timeout) timeout=$2
		case $2 in ''|*[!0-9]*) die "--timeout wants seconds, not '$2'" ;; esac ;;
	*) die "unknown argument '$1'" ;;
	esac
	shift 2
done
[ -f "$kernel" ] && [ -f "$initrd" ] && [ -n "$log" ] ||
	die "usage: $0 -k VMLINUZ -i INITRAMFS -l LOG [options]"
command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 is not installed"

# softlockup_panic: the guest kernel once locked up in its own reboot
# (ksoftirqd, after stage 2 had written, synced and called reboot(2)),
# with the softdog already stopped for the reboot; a board's hardware
# watchdog would have reset it. A lockup now panics, and panic=-1
# resets the machine (qemu stops instead under -no-reboot).
set -- -accel tcg -m 1024 -smp 1 -nographic $no_reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 softlockup_panic=1 quiet$append"
if [ -n "$rng" ]; then
	set -- "$@" -object rng-random,filename=/dev/urandom,id=rng0 \
		-device virtio-rng-pci,rng=rng0
fi
[ -z "$pidfile" ] || set -- "$@" -pidfile "$pidfile"
for d in $disks; do
	set -- "$@" -drive "file=$d,format=raw,if=virtio"
done
if [ -n "$fwds" ]; then
	# restrict=on: the guest reaches nothing; only the forwards get in.
	set -- "$@" -netdev "user,id=n0,restrict=on$fwds" \
		-device virtio-net-pci,netdev=n0,romfile=
else
	set -- "$@" -nic none
fi

fifo=$(mktemp -d "${TMPDIR:-/tmp}/su-vmrun.XXXXXX") || die "mktemp failed"
mkfifo "$fifo/console"
exec 3>"$log"
# timeout(1) runs qemu in a process group of its own and signals only
# that group: the qemu we started, nothing else.
timeout -k 5 "$timeout" qemu-system-x86_64 "$@" \
	</dev/null >"$fifo/console" 2>&1 &
qpid=$!
trap 'kill -TERM "$qpid" 2>/dev/null; rm -rf "$fifo"; exit 130' INT TERM HUP

cr=$(printf '\r')
verdict=
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%"$cr"}
	printf '%s\n' "$line"
	printf '%s\n' "$line" >&3
	case $line in
	"SU-VM-RESULT: PASS") verdict=${verdict:-pass} ;;
	"SU-VM-RESULT: FAIL"*) verdict=${verdict:-fail} ;;
	SU-VM-REBOOTING) verdict=${verdict:-reboot} ;;
	*"BUG: soft lockup"*)
		echo "run.sh: the guest kernel locked up; softlockup_panic resets it" >&2 ;;
	esac
done <"$fifo/console"
set +e
wait "$qpid"
qrc=$?
set -e
trap - INT TERM HUP
rm -rf "$fifo"
exec 3>&-

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "run.sh: timeout after ${timeout}s (verdict so far: ${verdict:-none})" >&2
	[ "$verdict" = pass ] && [ -z "$expect_reboot" ] && exit 0
	exit 2
fi
case $verdict in
pass)
	[ -z "$expect_reboot" ] && exit 0
	echo "run.sh: the guest passed but did not reboot" >&2 ;;
reboot)
	[ -n "$expect_reboot" ] && exit 0
	echo "run.sh: the guest rebooted without a verdict" >&2 ;;
fail)
	echo "run.sh: the guest reported failure" >&2
	exit 1 ;;
*)
	echo "run.sh: qemu exited ($qrc) without a verdict" >&2 ;;
esac
exit 3
