#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build everything and pass every test: installs what is missing (as
# root), then builds and runs the whole suite twice, once normally and
# once under ASan+UBSan, with warnings as errors; then a short run of
# every fuzz target. Ends with one line: "test.sh: N passed, N failed".
#   ./test.sh      (as root; CI runs exactly this through .ci/run)
# SU_FUZZ_SECONDS=N sets the length of each fuzz run (default 20).
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
passed=0
failed=0

contrib/deps.sh test

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

build() {
	local dir=$1; shift
	cmake -S "$top" -B "$top/build/$dir" -DSU_WERROR=ON \
		-DCMAKE_PREFIX_PATH="$top/.deps/prefix" "$@" >/dev/null
	cmake --build "$top/build/$dir" -j"$(nproc)"
}

# Run ctest in build/$1 and add its counts to the totals.
suite() {
	local log="$top/build/$1/ctest.log" line total bad
	ctest --test-dir "build/$1" --output-on-failure 2>&1 | tee "$log" || true
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "test.sh: ctest in build/$1 gave no summary" >&2
		failed=$((failed + 1))
		return
	fi
	total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
	bad=$(sed -E 's/.*tests passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
	passed=$((passed + total - bad))
	failed=$((failed + bad))
}

echo "== release build"
build release -DCMAKE_BUILD_TYPE=RelWithDebInfo
suite release

echo "== ASan+UBSan build"
build asan -DCMAKE_BUILD_TYPE=Debug -DSU_SANITIZE=ON
suite asan

echo "== fuzz (short run)"
build fuzz -DCMAKE_C_COMPILER=clang -DSU_FUZZ=ON
if test/fuzz/run.sh "$top/build/fuzz" "${SU_FUZZ_SECONDS:-20}"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

echo "test.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
