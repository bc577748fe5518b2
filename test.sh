#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build everything and pass every test: installs what is missing (as
# root), then builds and runs the whole suite twice, once normally and
# once under ASan+UBSan, with warnings as errors; then a short run of
# every fuzz target. Ends with one line: "test.sh: N passed, N failed".
#   ./test.sh      (as root; CI runs exactly this through .ci/run)
# SU_FUZZ_SECONDS=N sets the length of each fuzz run (default 60).
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
passed=0
failed=0

contrib/deps.sh test

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

. "$top/test/summary.sh"

# Configure and build build/$1; fails when either step fails (called in
# an `if`, where set -e does not stop at the first).
build() {
	local dir=$1; shift
	cmake -S "$top" -B "$top/build/$dir" -DSU_WERROR=ON \
		-DCMAKE_PREFIX_PATH="$top/.deps/prefix" "$@" >/dev/null &&
		cmake --build "$top/build/$dir" -j"$(nproc)"
}

# Build build/$1 with the options after it, run its ctest and add its
# counts to the totals; a failed build is one failure.
suite() {
	local dir=$1 log="$top/build/$1/ctest.log"; shift
	if ! build "$dir" "$@"; then
		su_stage_failed "build/$dir did not build"
		return 0
	fi
	rm -f "$top/build/$dir/Testing/Temporary/LastTest.log"
	ctest --test-dir "build/$dir" --output-on-failure 2>&1 | tee "$log" || true
	su_count_ctest "$log" "build/$dir"
}

echo "== release build"
suite release -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== ASan+UBSan build"
suite asan -DCMAKE_BUILD_TYPE=Debug -DSU_SANITIZE=ON

echo "== fuzz (short run)"
if ! build fuzz -DCMAKE_C_COMPILER=clang -DSU_FUZZ=ON; then
	su_stage_failed "build/fuzz did not build"
elif test/fuzz/run.sh "$top/build/fuzz" "${SU_FUZZ_SECONDS:-60}"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

if [ "$failed" -gt 0 ]; then
	echo "== the last lines of each failed test"
	for dir in release asan; do
		su_recap "$top/build/$dir/Testing/Temporary/LastTest.log" "build/$dir"
	done
fi
su_summary
