#!/bin/sh
# Run every libFuzzer target for FUZZ_SECONDS and record one TAP line each.
# Seeds come from tests/fuzz/corpus/NAME/ when it exists; new inputs go to
# a scratch corpus so the checkout stays clean.  A crash leaves its input
# in RESULTS_DIR/fuzz-NAME/ for reproduction.
set -u
results=$1
shift
secs=${FUZZ_SECONDS:-20}
mkdir -p "$results"
out="$results/fuzz.tap"
: >"$out"
status=0
n=0
for bin in "$@"; do
	n=$((n + 1))
	name=$(basename "$bin")
	work="$results/fuzz-$name"
	rm -rf "$work" && mkdir -p "$work/corpus"
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	echo "# fuzzing $name for ${secs}s"
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$work/" "$work/corpus" $seeds >"$work/log" 2>&1; then
		# libFuzzer ends with "Done N runs in S second(s)": the executions
		# the reliability report counts.
		runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$work/log")
		echo "ok $n - fuzz $name: ${runs:-? runs}, $(find "$work/corpus" -type f | wc -l) corpus inputs" >>"$out"
	else
		echo "not ok $n - fuzz $name: see $work/log" >>"$out"
		tail -n 40 "$work/log"
		status=1
	fi
done
echo "1..$n" >>"$out"
cat "$out"
exit $status
