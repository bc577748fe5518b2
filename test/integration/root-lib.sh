# SPDX-License-Identifier: GPL-2.0-or-later
# A root filesystem tree made of the host's own files, for the rigs
# that boot one (test/ns/lib.sh, test/vm/inplace.sh); sourced, never
# run. POSIX sh: variables of a helper carry its _prefix_. A failure
# prints "FAIL: ..." and exits 1, as fail and vm_fail do.

root_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# root_inside DIR PATH: PATH (which need not exist) resolves inside DIR;
# a copy into the tree never writes through a link out of it.
root_inside() {
	_ri_top=$(realpath -m "$1")
	_ri_path=$(realpath -m "$2")
	case $_ri_path/ in
	"$_ri_top"/*) ;;
	*) root_fail "root: $2 resolves to $_ri_path, outside $1" ;;
	esac
}

# root_layout DIR: DIR (new or empty) gets the host's layout of bin,
# sbin, lib and lib64 (merged /usr: the same symlinks), so that
# libraries copied in keep their paths, and the usual top directories.
root_layout() {
	mkdir -p "$1"/usr/bin "$1"/usr/sbin "$1"/usr/lib "$1"/usr/lib64
	for _rl_d in bin sbin lib lib64; do
		if [ -L "/$_rl_d" ]; then
			ln -s "$(readlink "/$_rl_d")" "$1/$_rl_d"
		else
			mkdir -p "$1/$_rl_d"
		fi
	done
	root_inside "$1" "$1/bin/x"
	root_inside "$1" "$1/lib64/x"
	for _rl_d in etc proc sys dev run tmp root mnt var/lib var/log \
		var/lock; do
		mkdir -p "$1/$_rl_d"
	done
	chmod 1777 "$1/tmp"
}

# root_busybox DIR: the host's /bin/busybox (busybox-static) with a link
# in DIR/bin for each applet but init and linuxrc (/sbin/init is the
# caller's choice).
root_busybox() {
	root_copy_path "$1" /bin/busybox
	for _rb_a in $(busybox --list); do
		case $_rb_a in
		busybox|init|linuxrc) continue ;;
		esac
		[ -e "$1/bin/$_rb_a" ] || ln -s busybox "$1/bin/$_rb_a"
	done
}

# root_copy_path DIR PATH: the host's PATH at DIR/PATH, a symlink as the
# same symlink (and its target copied too), a file with its mode. What
# is there already is kept.
root_copy_path() {
	_rcp_dir=$1 _rcp_path=$2 _rcp_dst=$1$2
	[ -e "$_rcp_dst" ] || [ -L "$_rcp_dst" ] && return 0
	root_inside "$_rcp_dir" "$(dirname "$_rcp_dst")"
	mkdir -p "$(dirname "$_rcp_dst")"
	if [ -L "$_rcp_path" ]; then
		_rcp_target=$(readlink "$_rcp_path")
		ln -s "$_rcp_target" "$_rcp_dst"
		case $_rcp_target in
		/*) ;;
		*) _rcp_target=$(dirname "$_rcp_path")/$_rcp_target ;;
		esac
		# the last thing done here: the recursion may reuse the variables
		root_copy_path "$_rcp_dir" "$(realpath -s -m "$_rcp_target")"
	else
		[ -f "$_rcp_path" ] || root_fail "root: $_rcp_path is not a regular file"
		cp -p "$_rcp_path" "$_rcp_dst"
	fi
}

# root_interp FILE: the ELF interpreter FILE asks for; nothing for a
# static one.
root_interp() {
	readelf -lW "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p'
}

# root_copy_elf DIR FILE [DEST]: FILE at DIR/DEST (default its own path)
# and every library it loads, at the paths its loader finds them
# (`LOADER --list`; for the ASan build that includes libasan/libubsan).
# A FILE that is a symlink (mkfs.ext4 -> mke2fs) without DEST is copied
# as the same link, and the program it names with its libraries.
root_copy_elf() {
	_rce_dir=$1 _rce_src=$2 _rce_dest=${3:-$2}
	if [ -L "$_rce_src" ] && [ $# -lt 3 ]; then
		root_copy_path "$_rce_dir" "$_rce_src"
		root_copy_elf "$_rce_dir" "$(realpath "$_rce_src")"
		return
	fi
	root_inside "$_rce_dir" "$_rce_dir$_rce_dest"
	mkdir -p "$(dirname "$_rce_dir$_rce_dest")"
	[ -e "$_rce_dir$_rce_dest" ] || cp -pL "$_rce_src" "$_rce_dir$_rce_dest"
	_rce_interp=$(root_interp "$_rce_src")
	[ -n "$_rce_interp" ] || return 0
	_rce_libs=$("$_rce_interp" --list "$_rce_src") ||
		root_fail "root: $_rce_interp --list $_rce_src: $_rce_libs"
	case $_rce_libs in
	*"not found"*) root_fail "root: $_rce_src: missing libraries: $_rce_libs" ;;
	esac
	for _rce_lib in $_rce_interp $(printf '%s\n' "$_rce_libs" |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }'); do
		root_copy_path "$_rce_dir" "$_rce_lib"
	done
}
