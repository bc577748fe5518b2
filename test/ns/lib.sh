# SPDX-License-Identifier: GPL-2.0-or-later
# The namespace rig (bash; sourced by test/ns/*.sh, never run): a v1/v2
# root filesystem with busybox, sysupgraded and a dummy service, as an
# ext4 image on a loop device, booted with busybox init (or s6-svscan)
# as PID 1 of `unshare --pid --mount --fork`. The namespace shares the
# host's network, so its daemon answers on 127.0.0.1:$PORT. Everything
# the rig started or attached is stopped and detached when the script
# ends. From ctest:
#   SU_DAEMON       the built sysupgraded (its build tree is the default
#                   BUILD_DIR: RIG_BUILD)
#   SU_BUNDLE_TOOL  the built sysupgrade-bundle
#   SU_TEST_SRC     the test/ source directory
#
# Inside the namespace:
#   /dev/rigroot     the root's loop device (also at its own /dev name);
#                    the config's in_use ext4 target `rootfs`
#   /dev/rigenv      the U-Boot environment's loop device (rig_env)
#   /dev/NAME        each NAME=LOOPDEV of RIG_DEVS (rig_boot), e.g. the
#                    slots of an A/B target
#   /host            $RIG_HOST, a host directory bound in: markers the
#                    host reads (dummy.log, services.log) survive the
#                    namespace and the rewrite of the root
#   /var/lib/dummy   the dummy service's heartbeat and stop marker (one
#                    dummy service per name in RIG_SERVICES, default
#                    "dummy": /var/lib/NAME, /host/NAME.log)
# The console (init's stdout and stderr, so the daemon's log and stage
# 2's) is the LOG file given to rig_boot.
#
# A test, in short (see boot.sh):
#   rig_init                                # $WORK, $PORT, $TOKEN, traps
#   rig_rootfs v1 1.0.0 "$RIG_BUILD" [s6]   # then change v1/ at will
#   rig_image v1.img v1
#   rig_env env.img                         # /dev/rigenv: bootenv, last_install
#   loop=$(rig_loop v1.img)
#   rig_boot "$loop" console.log            # RIG_PID, RIG_NSPID
#   rig_wait_https
#   expect_api ... / api ...                # daemon-lib.sh, on $BASE
#   rig_wait_end; assert_eq 129 "$RIG_STATUS" ...   # or rig_stop
#   rig_extract "$loop" after               # what is on the device now
#   rig_check_log console.log

. "$SU_TEST_SRC/integration/lib.sh"
. "$SU_TEST_SRC/integration/daemon-lib.sh"
. "$SU_TEST_SRC/integration/root-lib.sh"

RIG_SRC=$SU_TEST_SRC
RIG_BUILD=${SU_BUILD_DIR:-$(cd "$(dirname "$SU_DAEMON")/.." && pwd)}
RIG_REPO=$(cd "$SU_TEST_SRC/.." && pwd)
RIG_STAGING=/run/sysupgraded
RIG_STATE=$RIG_STAGING/root/handover.state
RIG_STAGE2="/usr/sbin/sysupgraded --stage2 $RIG_STATE"
RIG_IMAGE_SIZE=${RIG_IMAGE_SIZE:-96M}
RIG_SERVICES=${RIG_SERVICES:-dummy}
RIG_PIDS=
RIG_LOGS=
RIG_PID=
RIG_NSPID=
RIG_STATUS=
RIG_ENV_LOOP=
declare -A RIG_NS=()

# rig_init: root, tools, the daemon's TLS material, keys, token and
# port (daemon_init: $WORK, $TOKEN, $PORT, $BASE), $RIG_HOST, and the
# cleanup trap. Call it first.
rig_init() {
	daemon_init
	need unshare losetup mkfs.ext4 busybox readelf mkenvimage \
		fw_printenv stat mknod pivot_root nsenter
	trap 'rig_cleanup' EXIT
	RIG_HOST=$WORK/host
	mkdir "$RIG_HOST"
	: >"$WORK/rig.loops"
	: >"$WORK/rig.mounts"
}

# The EXIT trap: what fails here is counted, never stops the cleanup
# (fail would exit the trap).
rig_cleanup() {
	local rc=$? pid loop log mnt
	set +e
	cd /
	for pid in $RIG_PIDS; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rig_forget "$pid" || rc=1
	done
	while read -r loop; do
		[ -n "$loop" ] || continue
		rig_detach "$loop" || rc=1
	done <"$WORK/rig.loops"
	while read -r mnt; do
		[ -n "$mnt" ] || continue
		umount "$mnt" || rc=1
	done <"$WORK/rig.mounts"
	if [ "$rc" != 0 ]; then
		for log in $RIG_LOGS; do
			echo "--- console $log (last 60 lines):" >&2
			tail -n 60 "$log" >&2
		done
	fi
	(exit "$rc")
	daemon_cleanup
}

# ---- the root filesystem ----

# rig_rootfs DIR VERSION BUILD_DIR [INIT]: DIR (new or empty) becomes a
# root filesystem of VERSION: busybox with its applets, BUILD_DIR's
# sysupgraded with its libraries, its config (the in_use ext4 target
# `rootfs` on /dev/rigroot, TLS on 127.0.0.1:$PORT, $TOKEN), keys, TLS
# material, www, a U-Boot environment config for /dev/rigenv, files to
# keep, the dummy service and INIT as /sbin/init: busybox (default;
# handover = busybox), s6 (s6-svscan on /run/service; handover = s6)
# or openrc (busybox init running Debian's OpenRC, which starts the
# services and sysupgraded; handover = busybox, the services stopped
# and started through OpenRC runlevels: contrib/init/openrc).
# Extra config lines: RIG_CONF_DEVICE, RIG_CONF_SERVER, RIG_CONF_INSTALL
# are added to their sections, RIG_CONF_TARGETS replaces the target;
# RIG_STOP_COMMAND and RIG_START_COMMAND replace the services' commands.
# A test may change DIR further before rig_image.
rig_rootfs() {
	local dir=$1 version=$2 build=$3 init=${4:-busybox}
	local exe=$build/daemon/sysupgraded
	[ -x "$exe" ] || fail "rig: $exe is not an executable"
	case $init in
	busybox|s6|openrc) ;;
	*) fail "rig: init '$init' is not busybox, s6 or openrc" ;;
	esac
	mkdir -p "$dir"
	[ -z "$(ls -A "$dir")" ] || fail "rig: $dir is not empty"
	dir=$(realpath "$dir")
	root_layout "$dir"
	mkdir "$dir/host"
	root_busybox "$dir"
	root_copy_elf "$dir" "$exe" /usr/sbin/sysupgraded

	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
	printf 'root:x:0:\n' >"$dir/etc/group"
	echo "$version" >"$dir/etc/version"
	echo "$init" >"$dir/etc/rig-init"
	rig_etc_sysupgraded "$dir" "$version"
	rig_config "$dir" "$init"
	rig_services "$dir"
	case $init in
	busybox) rig_init_busybox "$dir" ;;
	s6) rig_init_s6 "$dir" ;;
	openrc) rig_init_openrc "$dir" ;;
	esac
}

# TLS material, keys, www, the U-Boot environment's config, files to
# keep (kept.conf, kept.d/*.conf and what keep.d lists are kept;
# not-kept.conf is not).
rig_etc_sysupgraded() {
	local dir=$1 version=$2 www=$1/usr/share/sysupgraded/www
	mkdir -p "$dir/etc/sysupgraded/tls" "$dir/etc/sysupgraded/keys" \
		"$dir/etc/sysupgraded/keep.d" "$dir/etc/rig/kept.d"
	cp "$WORK/server.pem" "$dir/etc/sysupgraded/tls/cert.pem"
	cp "$WORK/server.key" "$dir/etc/sysupgraded/tls/key.pem"
	cp "$WORK/ca.pem" "$dir/etc/sysupgraded/tls/clients-ca.pem"
	chmod 0600 "$dir/etc/sysupgraded/tls/key.pem"
	cp "$WORK"/keys/* "$dir/etc/sysupgraded/keys/"
	if [ -d "$RIG_REPO/www" ]; then
		mkdir -p "$(dirname "$www")"
		cp -a "$RIG_REPO/www" "$www"
	else
		mkdir -p "$www"
		printf '<!doctype html><title>rig %s</title>\n' "$version" \
			>"$www/index.html"
	fi
	echo "/dev/rigenv 0x0 0x4000" >"$dir/etc/fw_env.config"
	echo "kept.conf of $version" >"$dir/etc/rig/kept.conf"
	echo "kept.d/a.conf of $version" >"$dir/etc/rig/kept.d/a.conf"
	echo "listed.conf of $version" >"$dir/etc/rig/listed.conf"
	echo "not-kept.conf of $version" >"$dir/etc/rig/not-kept.conf"
	echo "/etc/rig/listed.conf" >"$dir/etc/sysupgraded/keep.d/rig"
}

# /etc/sysupgraded.conf
rig_config() {
	local dir=$1 init=$2 handover=$2 stop="/usr/bin/rig-services stop"
	local start="/usr/bin/rig-services start"
	if [ "$init" = openrc ]; then
		# contrib/init/openrc/README.md
		handover=busybox
		stop="/sbin/openrc sysupgrade"
		start="/sbin/openrc default"
	fi
	{
		cat <<EOC
; the namespace rig's device (test/ns/lib.sh)
[device]
compatible = acme,router-x1
version_file = /etc/version
keys = /etc/sysupgraded/keys
fw_env_config = /etc/fw_env.config
${RIG_CONF_DEVICE:-}

[server]
listen = 127.0.0.1:$PORT
cert = /etc/sysupgraded/tls/cert.pem
key = /etc/sysupgraded/tls/key.pem
client_ca = /etc/sysupgraded/tls/clients-ca.pem
token_sha256 = $TOKEN_SHA
www = /usr/share/sysupgraded/www
${RIG_CONF_SERVER:-}

[staging]
dir = $RIG_STAGING

[install]
handover = $handover
stop_command = ${RIG_STOP_COMMAND:-$stop}
start_command = ${RIG_START_COMMAND:-$start}
stop_timeout = 20
reboot_command = /bin/reboot
keep = /etc/rig/kept.conf /etc/rig/kept.d/*.conf
keep_d = /etc/sysupgraded/keep.d
EOC
		[ "$init" != s6 ] || echo "s6_scandir = /run/service"
		printf '%s\n\n' "${RIG_CONF_INSTALL:-}"
		if [ -n "${RIG_CONF_TARGETS:-}" ]; then
			printf '%s\n' "$RIG_CONF_TARGETS"
		else
			printf '[target:rootfs]\ntype = ext4\ndevice = /dev/rigroot\nin_use = yes\n'
		fi
	} >"$dir/etc/sysupgraded.conf"
}

# rig_script DIR PATH: stdin becomes the executable DIR/PATH
rig_script() {
	mkdir -p "$(dirname "$1$2")"
	cat >"$1$2"
	chmod 0755 "$1$2"
}

# The dummy services (one per name in RIG_SERVICES) and
# /usr/bin/rig-services {start|stop}, the config's start and stop
# commands, for either init.
rig_services() {
	echo "$RIG_SERVICES" >"$1/etc/rig-services"
	rig_script "$1" /usr/bin/dummy-service <<'EOS'
#!/bin/sh
# dummy-service [NAME]: the rig's dummy service NAME (default dummy): a
# heartbeat every 0.2 s in /var/lib/NAME; on SIGTERM a "stopped
# gracefully" marker there and in /host/NAME.log.
name=${1:-dummy}
d=/var/lib/$name
pidfile=/run/$name-service.pid
mkdir -p "$d"
stamp() {
	read -r up _ </proc/uptime
	echo "at $(date +%s) (uptime $up)"
}
stopped() {
	msg="stopped gracefully $(stamp) pid $$"
	echo "$msg" >"$d/stopped"
	echo "$name-service: $msg" >>"/host/$name.log"
	rm -f "$pidfile"
	exit 0
}
trap stopped TERM
rm -f "$d/stopped"
echo $$ >"$pidfile"
echo "$name-service: started $(stamp) pid $$" >>"/host/$name.log"
n=0
while :; do
	n=$((n + 1))
	echo "$n $(stamp)" >"$d/heartbeat.new"
	mv "$d/heartbeat.new" "$d/heartbeat"
	sleep 0.2
done
EOS
	rig_script "$1" /usr/bin/rig-services <<'EOS'
#!/bin/sh
# rig-services start|stop: the rig's services (the dummy services named
# in /etc/rig-services), under busybox init (/etc/rig-init) or s6. Each
# call is logged to /host/services.log; stop waits until each service
# is gone (10 s).
log() {
	read -r up _ </proc/uptime
	echo "rig-services: $1 at $(date +%s) (uptime $up)" >>/host/services.log
}
init=$(cat /etc/rig-init)
log "$1 ($init)"
stop_one() {
	[ -f "/run/$1-service.pid" ] || return 0
	pid=$(cat "/run/$1-service.pid")
	kill -TERM "$pid" 2>/dev/null || return 0
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			echo "rig-services: $1-service (pid $pid) still runs 10 s after SIGTERM" >&2
			return 1
		fi
		sleep 0.1
	done
}
rc=0
for name in $(cat /etc/rig-services); do
	case $init:$1 in
	busybox:start)
		setsid /usr/bin/dummy-service "$name" </dev/null &
		;;
	busybox:stop)
		stop_one "$name" || rc=1
		;;
	s6:start)
		s6-svc -wu -T 10000 -u "/run/service/$name" || rc=1
		;;
	s6:stop)
		s6-svc -wD -T 10000 -d "/run/service/$name" || rc=1
		;;
	*)
		echo "usage: rig-services start|stop" >&2
		exit 2
		;;
	esac
done
exit "$rc"
EOS
}

# The ::restart: line is contrib/init/busybox/inittab's, as its how-to
# says to copy it.
rig_init_busybox() {
	local contrib=$RIG_REPO/contrib/init/busybox/inittab
	ln -s /bin/busybox "$1/sbin/init"
	{
		echo "# the rig: busybox init as PID 1 of the namespace (test/ns/lib.sh)"
		echo "::sysinit:/usr/bin/rig-services start"
		echo "::once:/usr/sbin/sysupgraded -c /etc/sysupgraded.conf --foreground -v"
		grep '^::restart:' "$contrib"
	} >"$1/etc/inittab"
	grep -q '^::restart:'"$RIG_STAGE2"'$' "$1/etc/inittab" ||
		fail "rig: $contrib has no ::restart:$RIG_STAGE2"
}

# s6: /sbin/init copies /etc/s6/service to the tmpfs /run/service (as
# s6-linux-init does) and execs s6-svscan on it. The daemon is not
# restarted when it exits (its finish exits 125). .s6-svscan/finish,
# run when s6-svscan exits without a handover, logs and reboots.
rig_init_s6() {
	local dir=$1 sv=$1/etc/s6/service b
	for b in s6-svscan s6-supervise s6-svscanctl s6-svc s6-svok s6-svstat \
		s6-svwait s6-svlisten1 s6-svlisten s6-ftrigrd; do
		[ -x "/usr/bin/$b" ] || fail "rig: /usr/bin/$b is missing (Debian's s6)"
		root_copy_elf "$dir" "/usr/bin/$b"
	done
	rig_script "$dir" /sbin/init <<'EOS'
#!/bin/sh
# the rig's s6 stage 1: the scan directory in /run, then s6-svscan as PID 1
mkdir -p /run/service
cp -a /etc/s6/service/. /run/service/
exec s6-svscan /run/service
EOS
	for b in $RIG_SERVICES; do
		rig_script "$dir" "/etc/s6/service/$b/run" <<EOS
#!/bin/sh
exec /usr/bin/dummy-service $b
EOS
	done
	rig_script "$dir" /etc/s6/service/sysupgraded/run <<'EOS'
#!/bin/sh
exec /usr/sbin/sysupgraded -c /etc/sysupgraded.conf --foreground -v 2>&1
EOS
	rig_script "$dir" /etc/s6/service/sysupgraded/finish <<'EOS'
#!/bin/sh
echo "rig: sysupgraded exited ($1 $2); not restarted"
exit 125
EOS
	rig_script "$dir" /etc/s6/service/.s6-svscan/finish <<'EOS'
#!/bin/sh
# the rig's shutdown: s6-svscan exited without a handover
read -r up _ </proc/uptime
echo "rig-finish: pid $$ in $PWD at $(date +%s) (uptime $up)" | tee -a /host/finish.log
exec reboot -f
EOS
}

# openrc: Debian's OpenRC (contrib/deps.sh unpacks it into
# .deps/openrc/root; RIG_OPENRC overrides) under busybox init, as
# Alpine boots: contrib/init/openrc's inittab lines, init script and
# conf.d file. The runlevel `default` holds rig-net (provides net), the
# dummy services (RIG_SERVICES) and sysupgraded; `sysupgrade`, the one
# the stop command switches to, rig-net and sysupgraded only. The
# dummy services' stop_post and start_post (run by openrc-run only)
# log to /host/openrc.log.
rig_init_openrc() {
	local dir=$1 src=${RIG_OPENRC:-$RIG_REPO/.deps/openrc/root} b f
	local contrib=$RIG_REPO/contrib/init/openrc
	[ -x "$src/sbin/openrc" ] ||
		fail "rig: no OpenRC in $src (contrib/deps.sh test unpacks Debian's openrc there)"
	rig_openrc_files "$dir" "$src"
	# what Debian's OpenRC reads beyond its package: insserv's config
	# (for LSB headers; there are none), the group of its checkpath calls
	echo "# the rig: no LSB init scripts" >"$dir/etc/insserv.conf"
	mkdir -p "$dir/etc/insserv.conf.d"
	echo "uucp:x:10:" >>"$dir/etc/group"
	ln -s /bin/busybox "$dir/sbin/init"
	{
		echo "# the rig: OpenRC under busybox init (test/ns/lib.sh)"
		grep -v '^#' "$contrib/inittab"
	} >"$dir/etc/inittab"
	grep -q '^::restart:'"$RIG_STAGE2"'$' "$dir/etc/inittab" ||
		fail "rig: $contrib/inittab has no ::restart:$RIG_STAGE2"
	mkdir -p "$dir/etc/conf.d" "$dir/etc/runlevels/sysinit" \
		"$dir/etc/runlevels/boot" "$dir/etc/runlevels/default" \
		"$dir/etc/runlevels/shutdown" "$dir/etc/runlevels/sysupgrade"
	install -m 0755 "$contrib/sysupgraded" "$dir/etc/init.d/sysupgraded"
	cp "$contrib/sysupgraded.confd" "$dir/etc/conf.d/sysupgraded"
	cat >>"$dir/etc/conf.d/sysupgraded" <<'EOS'

# the rig: verbose, the log on the console (init's stdout)
SYSUPGRADED_OPTS="-v"
output_log=/host/sysupgraded.log
error_log=/host/sysupgraded.log
EOS
	rig_script "$dir" /etc/init.d/rig-net <<'EOS'
#!/sbin/openrc-run
# the rig's network: the host's, shared; this only provides "net"
depend() {
	provide net
}
start() {
	ebegin "rig-net: the namespace shares the host's network"
	eend 0
}
EOS
	for b in $RIG_SERVICES; do
		rig_script "$dir" "/etc/init.d/$b" <<EOS
#!/sbin/openrc-run
# the rig's dummy service $b, supervised by supervise-daemon
supervisor=supervise-daemon
command=/usr/bin/dummy-service
command_args=$b
pidfile=/run/openrc-$b.pid
depend() {
	need net
}
start_post() {
	read -r up _ </proc/uptime
	echo "openrc: $b started by openrc-run (uptime \$up)" >>/host/openrc.log
}
stop_post() {
	read -r up _ </proc/uptime
	echo "openrc: $b stopped by openrc-run (uptime \$up)" >>/host/openrc.log
}
EOS
		ln -s "/etc/init.d/$b" "$dir/etc/runlevels/default/$b"
	done
	for b in rig-net sysupgraded; do
		ln -s "/etc/init.d/$b" "$dir/etc/runlevels/default/$b"
		ln -s "/etc/init.d/$b" "$dir/etc/runlevels/sysupgrade/$b"
	done
}

# rig_openrc_files DIR SRC: the unpacked OpenRC tree SRC into DIR, and
# the host's libraries its programs load (librc and libeinfo are in SRC).
rig_openrc_files() {
	local dir=$1 src=$2 d f interp libs lib
	for d in bin sbin lib etc; do
		[ -d "$src/$d" ] || continue
		mkdir -p "$dir/$d"
		cp -a "$src/$d/." "$dir/$d/"
	done
	interp=$(root_interp "$src/sbin/openrc")
	for f in "$src"/sbin/* "$src"/bin/* "$src"/lib/rc/bin/* "$src"/lib/rc/sbin/*; do
		[ -f "$f" ] && [ ! -L "$f" ] && [ -n "$(root_interp "$f" 2>/dev/null)" ] ||
			continue
		libs=$("$interp" --library-path "$(echo "$src"/lib/*-linux-gnu)" --list "$f") ||
			fail "rig: $interp --list $f: $libs"
		case $libs in
		*"not found"*) fail "rig: $f: missing libraries: $libs" ;;
		esac
		for lib in $(printf '%s\n' "$libs" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
			case $lib in
			"$src"/*) ;;
			*) root_copy_path "$dir" "$lib" ;;
			esac
		done
	done
}

# ---- images and loop devices ----

# rig_image IMG DIR [SIZE]: an ext4 image of SIZE (RIG_IMAGE_SIZE) made
# from DIR.
rig_image() {
	rm -f "$1"
	truncate -s "${3:-$RIG_IMAGE_SIZE}" "$1"
	mkfs.ext4 -q -F -L rigroot -d "$2" "$1" >"$WORK/mkfs.out" 2>&1 ||
		fail "mkfs.ext4 -d $2 $1: $(cat "$WORK/mkfs.out")"
}

# rig_bundle OUT VERSION IMG [KEY] [TYPE]: a bundle of VERSION (made by
# sysupgrade-bundle, signed with KEY, default (or empty)
# $WORK/signing.pem, which the rig's keys trust) holding IMG,
# zstd-compressed, as the TYPE (default ext4) image of target rootfs,
# with bootenv rig_version=VERSION.
rig_bundle() {
	"$TOOL" create --version "$2" --compatible acme,router-x1 \
		--image "$3:${5:-ext4}:rootfs:zstd" --bootenv "rig_version=$2" \
		--key "${4:-$WORK/signing.pem}" --output "$1" >"$WORK/bundle.out" 2>&1 ||
		fail "sysupgrade-bundle create $1: $(cat "$WORK/bundle.out")"
}

# rig_tarball OUT DIR: DIR's tree as a tar archive (numeric owners, its
# device nodes included), for a `tar` target's image.
rig_tarball() {
	tar --numeric-owner -C "$2" -cf "$1" . 2>"$WORK/tar.err" ||
		fail "tar -C $2 -cf $1: $(cat "$WORK/tar.err")"
}

# rig_env IMG [VAR=VALUE...]: a U-Boot environment image (0x4000 bytes)
# for /etc/fw_env.config, on a loop device that rig_boot gives the
# namespace as /dev/rigenv: RIG_ENV_LOOP.
rig_env() {
	local img=$1 v
	shift
	for v in "bootcmd=boot" "$@"; do
		echo "$v"
	done >"$img.txt"
	mkenvimage -s 0x4000 -o "$img" "$img.txt" || fail "mkenvimage $img"
	RIG_ENV_LOOP=$(rig_loop "$img")
}

# rig_env_get VAR: VAR of the environment rig_env made (fw_printenv
# on its loop device), or fail when it is not set. The host does not
# share the namespace's lock: read it while nothing in there writes.
rig_env_get() {
	echo "$RIG_ENV_LOOP 0x0 0x4000" >"$WORK/rig-fw_env.config"
	fw_printenv -c "$WORK/rig-fw_env.config" -n "$1" 2>"$WORK/fw_printenv.err" ||
		fail "fw_printenv $1: $(cat "$WORK/fw_printenv.err")"
}

# rig_loop IMG: attach IMG to a free loop device and print its name;
# it is detached at the end (also when called in $(...)).
rig_loop() {
	local dev
	dev=$(losetup -f --show "$1") || fail "losetup -f --show $1"
	echo "$dev" >>"$WORK/rig.loops"
	echo "$dev"
}

# rig_wait_unmounted LOOPDEV: until no ext4 is mounted from it in any
# namespace (10 s); a dying namespace lets go of its mounts late.
rig_wait_unmounted() {
	rig_unmounted "$1" || fail "$1 is still mounted 10 s after its namespace ended"
}

rig_unmounted() {
	local i=0
	while [ -e "/proc/fs/ext4/${1##*/}" ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || return 1
		sleep 0.1
	done
}

# rig_unloop LOOPDEV: wait until it is unmounted, detach it, and check
# that it is gone.
rig_unloop() {
	rig_detach "$1" || fail "could not detach $1"
}

rig_detach() {
	local dev=$1 i=0
	rig_unmounted "$dev" || {
		echo "rig: $dev is still mounted 10 s after its namespace ended" >&2
		return 1
	}
	losetup -d "$dev" || return 1
	while [ -e "/sys/block/${dev##*/}/loop/backing_file" ]; do
		i=$((i + 1))
		if [ "$i" -ge 100 ]; then
			echo "rig: $dev still has a backing file after losetup -d" >&2
			return 1
		fi
		sleep 0.1
	done
	sed -i "\\|^$dev\$|d" "$WORK/rig.loops"
}

# rig_mount LOOPDEV DIR CMD...: run CMD with LOOPDEV mounted read-only
# on DIR (in a mount namespace of its own, so nothing can stay mounted).
# It waits until no namespace has it mounted first: a mount of a live
# superblock would show its cache, not what was written to the device.
rig_mount() {
	local dev=$1 dir=$2
	shift 2
	rig_wait_unmounted "$dev"
	mkdir -p "$dir"
	unshare --mount --propagation private sh -c \
		'mount -o ro "$1" "$2" && shift 2 && exec "$@"' sh "$dev" "$dir" "$@"
}

# rig_put LOOPDEV PATH: stdin becomes the file PATH on the filesystem on
# LOOPDEV (mounted read-write in a mount namespace of its own), as a
# boot loader would leave it for the next boot.
rig_put() {
	local dev=$1 mnt=$WORK/put.mnt
	rig_wait_unmounted "$dev"
	mkdir -p "$mnt"
	unshare --mount --propagation private sh -c \
		'mount "$1" "$2" && cat >"$2$3" && umount "$2"' sh "$dev" "$mnt" "$2" ||
		fail "could not write $2 on $dev"
}

# rig_tmpfs DIR SIZE: a tmpfs of SIZE on DIR (made), unmounted at the
# end after the loop devices (a root image may live on it).
rig_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0700" rigtmpfs "$1" ||
		fail "mount a tmpfs of $2 on $1"
	realpath "$1" >>"$WORK/rig.mounts"
}

# rig_untmpfs DIR: unmount the tmpfs of rig_tmpfs now.
rig_untmpfs() {
	local dir
	dir=$(realpath "$1")
	umount "$dir" || fail "umount $dir"
	sed -i "\\|^$dir\$|d" "$WORK/rig.mounts"
}

# rig_extract LOOPDEV DIR: copy the filesystem on LOOPDEV into DIR (a
# new directory), to look at after the namespace has ended.
rig_extract() {
	mkdir "$2"
	rig_mount "$1" "$WORK/extract.mnt" cp -a "$WORK/extract.mnt/." "$2/" ||
		fail "could not copy the filesystem on $1 out"
}

# ---- booting and stopping ----

# rig_boot LOOPDEV LOG: boot the root on LOOPDEV in a new PID and mount
# namespace (test/ns/preinit.sh, then /sbin/init as its PID 1), console
# to LOG. Sets RIG_PID (the unshare process, our child: `wait` gives
# the namespace's end, 129 for reboot()) and RIG_NSPID (its PID 1 as
# the host sees it). The U-Boot environment of rig_env goes along, and
# each NAME=LOOPDEV of RIG_DEVS as /dev/NAME.
rig_boot() {
	local loop=$1 log mnt i=0
	log=$(realpath -m "$2")
	mnt=$(mktemp -d "$WORK/nsroot.XXXXXX")
	env --default-signal unshare --pid --mount --fork --propagation private \
		--kill-child bash "$RIG_SRC/ns/preinit.sh" "$loop" "$mnt" \
		"$RIG_HOST" "$RIG_ENV_LOOP" ${RIG_DEVS:-} </dev/null >>"$log" 2>&1 &
	RIG_PID=$!
	RIG_PIDS="$RIG_PIDS $RIG_PID"
	case " $RIG_LOGS " in
	*" $log "*) ;;
	*) RIG_LOGS="$RIG_LOGS $log" ;;
	esac
	RIG_NSPID=
	while [ -z "$RIG_NSPID" ]; do
		kill -0 "$RIG_PID" 2>/dev/null ||
			fail "rig: unshare exited at once: $(tail -n 5 "$log")"
		RIG_NSPID=$(cat "/proc/$RIG_PID/task/$RIG_PID/children" 2>/dev/null) || :
		RIG_NSPID=${RIG_NSPID%% *}
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "rig: unshare made no child in 10 s"
		[ -n "$RIG_NSPID" ] || sleep 0.1
	done
	RIG_NS[$RIG_PID]=$RIG_NSPID
	rig_check_nspid "$RIG_NSPID"
}

# rig_up DIR: the usual start of a test: DIR as v1.img, the U-Boot
# environment env.img, the image on a loop device (RIG_ROOT_LOOP) booted
# with its console in console.log, /info answering and the dummy
# service's heartbeat.
rig_up() {
	rig_image v1.img "$1"
	rig_env env.img
	RIG_ROOT_LOOP=$(rig_loop v1.img)
	rig_boot "$RIG_ROOT_LOOP" console.log
	rig_wait_https
	rig_heartbeat
}

# rig_check_nspid PID: PID is PID 1 of a namespace below ours (never
# the host's init, never us).
rig_check_nspid() {
	local ns
	case $1 in
	''|*[!0-9]*|1) fail "rig: '$1' is not a namespace's init" ;;
	esac
	ns=$(sed -n 's/^NSpid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null) ||
		fail "rig: no process $1"
	set -- "$1" $ns
	[ $# -ge 3 ] && [ "${!#}" = 1 ] ||
		fail "rig: process $1 is not PID 1 of a child PID namespace (NSpid: $ns)"
}

# rig_signal SIG [UNSHARE_PID]: send SIG to the namespace's PID 1 (of
# RIG_PID by default), and only to it.
rig_signal() {
	local nspid=${RIG_NS[${2:-$RIG_PID}]:-}
	rig_check_nspid "$nspid"
	kill -s "$1" "$nspid"
}

# rig_nsfile PATH [UNSHARE_PID]: PATH as the namespace's PID 1 sees it
# (through /proc/PID/root), for reading its files from the host.
rig_nsfile() {
	echo "/proc/${RIG_NS[${2:-$RIG_PID}]}/root$1"
}

# rig_pids COMM: the PIDs (as the namespace sees them) of the
# namespace's processes named COMM, from its own /proc.
rig_pids() {
	local p c
	for p in "$(rig_nsfile /proc)"/[0-9]*; do
		c=$(cat "$p/comm" 2>/dev/null) || continue
		[ "$c" != "$1" ] || echo "${p##*/}"
	done
}

# rig_ns CMD...: run CMD (a program of the namespace's root) inside the
# namespace of RIG_PID: its mounts, its PIDs, its root.
rig_ns() {
	rig_check_nspid "$RIG_NSPID"
	nsenter --target "$RIG_NSPID" --mount --pid --root --wd=/ -- "$@"
}

# rig_wait_https [PORT] [SECONDS]: until GET /api/v1/info answers 200
# over HTTPS on 127.0.0.1 (the rig's certificate), or fail (30 s, or
# when the namespace ends).
rig_wait_https() {
	local port=${1:-$PORT} limit=$((${2:-30} * 10)) i=0 code
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			--cacert "$WORK/server.pem" \
			"https://127.0.0.1:$port/api/v1/info" 2>/dev/null) || :
		[ "$code" = 200 ] && return 0
		[ -z "$RIG_PID" ] || kill -0 "$RIG_PID" 2>/dev/null ||
			fail "the namespace ended before /info answered on port $port"
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || fail "/info did not answer on port $port within $((limit / 10)) s"
		sleep 0.1
	done
}

# rig_wait_state STATE [SECONDS]: until GET /status says STATE (60 s,
# else fail, or when the namespace ends). No answer is no failure: the
# daemon is away while PID 1 hands over to stage 2. ./body is the last
# /status.
rig_wait_state() {
	local limit=$((${2:-60} * 10)) i=0 code state=
	while :; do
		code=$(API_TIMEOUT=3 api GET /status) || :
		if [ "$code" = 200 ]; then
			state=$(json_get body 'j["state"]')
			[ "$state" != "$1" ] || return 0
		fi
		[ -z "$RIG_PID" ] || kill -0 "$RIG_PID" 2>/dev/null ||
			fail "the namespace ended before the state was $1 (last: ${state:-no answer})"
		i=$((i + 1))
		[ "$i" -lt "$limit" ] ||
			fail "the state was not $1 within $((limit / 10)) s (last: ${state:-no answer} $(cat body 2>/dev/null))"
		sleep 0.1
	done
}

# rig_heartbeat: the dummy service is alive: its heartbeat counter goes
# up within 2 s.
rig_heartbeat() {
	local hb first now i=0
	hb=$(rig_nsfile /var/lib/dummy/heartbeat)
	while ! first=$(cut -d' ' -f1 "$hb" 2>/dev/null) || [ -z "$first" ]; do
		i=$((i + 1))
		[ "$i" -lt 50 ] || fail "the dummy service wrote no heartbeat in 5 s"
		sleep 0.1
	done
	i=0
	while :; do
		now=$(cut -d' ' -f1 "$hb" 2>/dev/null) || now=
		[ -n "$now" ] && [ "$now" -gt "$first" ] && return 0
		i=$((i + 1))
		[ "$i" -lt 20 ] || fail "the dummy service's heartbeat stays at $first"
		sleep 0.1
	done
}

# rig_wait_end [UNSHARE_PID] [SECONDS]: until the namespace ends by
# itself (60 s, else fail); RIG_STATUS is unshare's exit status (129:
# its init died of SIGHUP, which is what reboot() in a PID namespace
# does).
rig_wait_end() {
	local pid=${1:-$RIG_PID} limit=$((${2:-60} * 10)) i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || fail "the namespace of unshare $pid did not end within $((limit / 10)) s"
		sleep 0.1
	done
	RIG_STATUS=0
	wait "$pid" || RIG_STATUS=$?
	rig_forget "$pid" || fail "the namespace of unshare $pid did not end"
}

# rig_stop [UNSHARE_PID]: end the namespace now (SIGKILL to unshare,
# whose --kill-child takes its PID 1 and so the whole namespace along)
# and wait until its PID 1 is gone.
rig_stop() {
	local pid=${1:-$RIG_PID}
	kill -KILL "$pid" 2>/dev/null || :
	wait "$pid" 2>/dev/null || :
	rig_forget "$pid" || fail "the namespace of unshare $pid did not end"
}

# rig_forget PID: unshare PID has ended: wait until its namespace's init
# is gone too (10 s, else return 1) and drop it from the rig's lists.
rig_forget() {
	local nspid=${RIG_NS[$1]:-} i=0
	RIG_PIDS=$(printf '%s\n' $RIG_PIDS | grep -vx "$1" | tr '\n' ' ') || :
	unset "RIG_NS[$1]"
	[ "$1" != "$RIG_PID" ] || RIG_PID=
	[ -n "$nspid" ] || return 0
	while [ -e "/proc/$nspid" ]; do
		i=$((i + 1))
		if [ "$i" -ge 100 ]; then
			echo "rig: the namespace's init (pid $nspid) outlived unshare $1 by 10 s" >&2
			return 1
		fi
		sleep 0.1
	done
}

# rig_check_log LOG: no sanitizer report on the console.
rig_check_log() {
	! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$1" ||
		fail "sanitizer report on the console $1: $(cat "$1")"
}

# rig_assert_clean: no mount of ours is left on the host (under $WORK)
# and no loop device of ours is attached.
rig_assert_clean() {
	! grep -qF " $WORK/" /proc/self/mountinfo ||
		fail "mounts left under $WORK: $(grep -F " $WORK/" /proc/self/mountinfo)"
	[ ! -s "$WORK/rig.loops" ] ||
		fail "loop devices still attached: $(cat "$WORK/rig.loops")"
	! losetup -l -n -O BACK-FILE | grep -qF "$WORK/" ||
		fail "a loop device still holds a file of $WORK: $(losetup -l)"
}
