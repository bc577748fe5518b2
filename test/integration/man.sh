#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# integration.man: the man pages in man/ render with `man -l` without a
# single warning and fit 80 columns; every config key the code knows
# (lib/config.c's section tables and target keys, the backends'
# known_options) has an entry in sysupgraded.conf(5) under its section,
# and the page documents no key the code lacks; the options of each
# program's --help (and of each sysupgrade-bundle verb's) are the ones
# of its man page's OPTIONS (or the verb's subsection), both ways.
#   SU_DAEMON  the built sysupgraded
set -eu
. "$SU_TEST_SRC/integration/lib.sh"
: "${SU_DAEMON:?SU_DAEMON must name the sysupgraded binary}"
need man groff awk sed comm
mkwork
src=$(cd "$SU_TEST_SRC/.." && pwd)
man8=$src/man/sysupgraded.8
man5=$src/man/sysupgraded.conf.5
man1=$src/man/sysupgrade-bundle.1

# ---- rendering ----

n=0
for page in "$src"/man/*.[1-8]; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" >render.out 2>render.err ||
		fail "man -l $page failed: $(cat render.err)"
	[ ! -s render.err ] || fail "man -l $page warns: $(cat render.err)"
	grep -q '^NAME' render.out && grep -q '^SYNOPSIS' render.out ||
		fail "man -l $page renders no NAME or SYNOPSIS: $(head -n 20 render.out)"
	awk 'length($0) > 80 { print FILENAME ":" FNR ": " $0; bad = 1 } END { exit bad }' \
		render.out >wide.out || fail "$page renders wider than 80 columns: $(cat wide.out)"
	n=$((n + 1))
done
for page in "$man8" "$man5" "$man1"; do
	[ -f "$page" ] || fail "no man page $page"
done
pass "$n man pages render with man --warnings=w -l (every groff warning), no warning, within 80 columns"

# ---- the roff source ----

# tags PAGE: one line per .TP entry, "SH<TAB>SS<TAB>tag line", the tag
# line with \- made - and font escapes removed.
tags() {
	awk '
	function unquote(s) { gsub(/"/, "", s); return s }
	/^\.SH / { sh = unquote(substr($0, 5)); ss = ""; next }
	/^\.SS / { ss = unquote(substr($0, 5)); next }
	/^\.TP/ { tp = 1; next }
	tp {
		tp = 0; t = $0
		gsub(/\\-/, "-", t); gsub(/\\f[BIRP]/, "", t)
		print sh "\t" ss "\t" t
	}' "$1"
}

# options: the option names (-x, --long) in the lines of stdin.
options() {
	sed 's/^\.[A-Z]* //' | tr ' ",' '\n\n\n' | grep -E '^--?[A-Za-z0-9][A-Za-z0-9-]*$' | sort -u
}

# help_options: the options of a --help text on stdin: the leading
# words that start with - of each line indented by 2 to 6 blanks.
help_options() {
	grep -E '^ {2,6}-' | awk '{
		for (i = 1; i <= NF && $i ~ /^-/; i++) { o = $i; sub(/,$/, "", o); print o }
	}' | sort -u
}

# same WHAT A B: the sorted files A and B hold the same lines.
same() {
	comm -23 "$2" "$3" >only.a
	comm -13 "$2" "$3" >only.b
	[ ! -s only.a ] && [ ! -s only.b ] ||
		fail "$1: only in $(basename "$2"): $(tr '\n' ' ' <only.a); only in $(basename "$3"): $(tr '\n' ' ' <only.b)"
}

# at_least N FILE WHAT: the extraction found something, so the checks
# below cannot pass on an empty list.
at_least() {
	[ "$(wc -l <"$2")" -ge "$1" ] || fail "found under $1 $3 (extraction broken?): $(cat "$2")"
}

# ---- config keys ----

cfg=$src/lib/config.c
tags "$man5" >conf.tags
# the section table: name and key table, e.g. "device device_keys"
sed -n 's/^[[:space:]]*{ "\([a-z]*\)", \([a-z_]*_keys\) },$/\1 \2/p' "$cfg" >sections
at_least 4 sections "[section] tables in $cfg"
while read -r section table; do
	awk -v t="$table" '
	$0 ~ "^static const struct key " t "\\[\\] = \\{" { on = 1; next }
	on && /^};/ { exit }
	on && /\{ "/ { k = $0; sub(/^[^"]*"/, "", k); sub(/".*/, "", k); print k }
	' "$cfg" | sort -u >"code.$section"
	at_least 2 "code.$section" "keys in $table"
	awk -F '\t' -v h="[$section] SECTION" '$1 == h { split($3, w, " "); print w[2] }' \
		conf.tags | sort -u >"page.$section"
	same "[$section] keys of $cfg vs sysupgraded.conf(5)" "code.$section" "page.$section"
done <sections
sed -n '/^static enum su_err target_key(/,/^}/s/.*strcmp(key, "\([a-z_]*\)").*/\1/p' "$cfg" |
	sort -u >code.target
at_least 8 code.target "target keys in target_key()"
awk -F '\t' '$1 == "[target:NAME] SECTIONS" { split($3, w, " "); print w[2] }' conf.tags |
	sort -u >page.target
same "[target:NAME] keys of $cfg vs sysupgraded.conf(5)" code.target page.target
: >backends
for f in "$src"/flash-backends/*.c; do
	grep -q 'known_options\[\] = {' "$f" || continue
	type=$(basename "$f" .c)
	echo "$type" >>backends
	awk '/known_options\[\] = \{/ { on = 1 } on { print } on && /};/ { exit }' "$f" |
		grep -o '"[a-z_]*"' | tr -d '"' | sort -u >"code.$type"
	at_least 1 "code.$type" "options in $f"
	awk -F '\t' -v s="type = $type" '$1 == "BACKEND OPTIONS" && $2 == s { split($3, w, " "); print w[2] }' \
		conf.tags | sort -u >"page.$type"
	same "$type options of $f vs sysupgraded.conf(5)" "code.$type" "page.$type"
done
at_least 4 backends "backends with known_options"
keys=$(cat code.* | wc -l)
pass "sysupgraded.conf(5) documents the $keys keys of lib/config.c and the backends' options ($(tr '\n' ' ' <backends)), each in its section, and no other"

# ---- --help and OPTIONS ----

expect_ok "sysupgraded --help" "$SU_DAEMON" --help
help_options <out >help.daemon
at_least 8 help.daemon "options in sysupgraded --help"
tags "$man8" | awk -F '\t' '$1 == "OPTIONS" { print $3 }' | options >page.daemon
same "sysupgraded --help vs OPTIONS of sysupgraded(8)" help.daemon page.daemon
awk 'length($0) >= 80' out >wide.out
[ ! -s wide.out ] || fail "sysupgraded --help has lines of 80 columns or more: $(cat wide.out)"
pass "sysupgraded --help and sysupgraded(8) have the same $(wc -l <help.daemon) options"

tags "$man1" >bundle.tags
expect_ok "sysupgrade-bundle --help" "$TOOL" --help
cp out help.top
help_options <help.top >help.bundle
at_least 2 help.bundle "options in sysupgrade-bundle --help"
awk -F '\t' '$1 == "OPTIONS" { print $3 }' bundle.tags | options >page.bundle
same "sysupgrade-bundle --help vs OPTIONS of sysupgrade-bundle(1)" help.bundle page.bundle
# the verbs: the lines after "Verbs:" up to the blank one
awk '/^Verbs:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' help.top | sort -u >help.verbs
at_least 5 help.verbs "verbs in sysupgrade-bundle --help"
grep '^\.SS ' "$man1" | sed 's/^\.SS //; s/"//g' | sort -u >page.verbs
same "the verbs of sysupgrade-bundle --help vs the subsections of sysupgrade-bundle(1)" help.verbs page.verbs
wide=$(awk 'length($0) >= 80' help.top)
for verb in $(cat help.verbs); do
	expect_ok "sysupgrade-bundle $verb --help" "$TOOL" "$verb" --help
	wide="$wide$(awk 'length($0) >= 80' out)"
	help_options <out >"help.$verb.all"
	grep -qx -- '--help' "help.$verb.all" && grep -qx -- '-h' "help.$verb.all" ||
		fail "sysupgrade-bundle $verb --help lists no -h, --help (OPTIONS of the page says every verb has it)"
	grep -vx -e '-h' -e '--help' "help.$verb.all" >"help.$verb" || true
	awk -F '\t' -v v="$verb" '$1 == "VERBS" && $2 == v { print $3 }' bundle.tags | options >"page.$verb"
	same "sysupgrade-bundle $verb --help vs its subsection of sysupgrade-bundle(1)" "help.$verb" "page.$verb"
done
[ -z "$wide" ] || fail "sysupgrade-bundle help has lines of 80 columns or more: $wide"
pass "sysupgrade-bundle --help and each verb's have the options of sysupgrade-bundle(1)"
