#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every libFuzzer target in BUILD_DIR for SECONDS each; fails on the
# first crash, leak or sanitizer report. Seeds come from
# test/fuzz/corpus/NAME when present; new inputs go to a scratch dir.
#   test/fuzz/run.sh BUILD_DIR [SECONDS]      (CI: 60 s; on demand: hours)
set -eu
build=$1
secs=${2:-60}
src=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

n=0
for f in "$build"/test/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	mkdir -p "$scratch/$name"
	seeds=
	[ -d "$src/corpus/${name#fuzz_}" ] && seeds="$src/corpus/${name#fuzz_}"
	echo "fuzz: $name for ${secs}s"
	"$f" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$scratch/" "$scratch/$name" $seeds \
		2> "$scratch/$name.log" || {
		tail -n 60 "$scratch/$name.log"
		echo "fuzz: $name FAILED" >&2
		exit 1
	}
	grep -E '^stat::number_of_executed_units' "$scratch/$name.log" || true
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "fuzz: no fuzz targets in $build" >&2; exit 1; }
echo "fuzz: $n targets ran clean"
