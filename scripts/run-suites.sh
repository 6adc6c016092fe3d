#!/bin/sh
# Run test binaries that print TAP and keep their output for summary.sh.
#
#   run-suites.sh SUITE RESULTS_DIR BIN...
#
# A binary that exits non-zero without reporting a failing test (a crash,
# a sanitizer abort) is recorded as one failed test of its own.
set -u
suite=$1 results=$2
shift 2
mkdir -p "$results"
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for bin in "$@"; do
	kind=$(basename "$(dirname "$bin")")
	name=$(basename "$bin")
	out="$results/$suite.$kind.$name.tap"
	echo "# $kind/$name"
	"$bin" >"$out" 2>&1
	rc=$?
	sed 's/^/    /' "$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		echo "not ok - $kind/$name exited with status $rc" >>"$out"
		echo "    not ok - $kind/$name exited with status $rc"
	fi
	[ "$rc" -eq 0 ] || status=1
done
exit $status
