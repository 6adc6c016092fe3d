#!/bin/sh
# The reliability report (Documentation/reliability.rst): every figure of
# issue 14's evidence, read from the results `make check` and
# `make check-debug` left behind, each with the command that produces it.
#
#   scripts/reliability-report.sh RESULTS_DIR [OUT.md]
#
# RESULTS_DIR is build/results (the debug kernel's runs are in its debug/
# subdirectory).  A figure whose results are missing is reported as such,
# with the command to run, and the script exits 1: nothing is left out
# silently.
set -u
res=${1:-build/results}
out=${2:-$res/reliability.md}
dbg=$res/debug
missing=0

# TAP counts of one file: "P passed, F failed, S skipped".
tap_counts() {
	p=$(grep -E '^ok ' "$1" | grep -vc '# SKIP')
	s=$(grep -cE '^ok .*# SKIP' "$1")
	f=$(grep -cE '^not ok ' "$1")
	echo "$p passed, $f failed, $s skipped"
}

# A table row per TAP file matching a glob in a directory.
suite_rows() {
	dir=$1
	shift
	for pat in "$@"; do
		found=0
		for f in "$dir"/$pat.tap; do
			[ -f "$f" ] || continue
			found=1
			echo "| $(basename "$f" .tap) | $(tap_counts "$f") |"
		done
		if [ $found = 0 ]; then
			echo "| $pat | **not run** |"
			missing=1
		fi
	done
}

need() {
	if [ ! -e "$1" ]; then
		echo "**not run**: \`$2\` produces it ($1 is missing)."
		echo
		missing=1
		return 1
	fi
	return 0
}

{
	echo "# nuq reliability report"
	echo
	echo "From \`$res\`, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo "Regenerate: \`make reliability-report\` (runs \`make check\` and \`make check-debug\` first when their results are missing)."
	echo

	echo "## Debug kernel verdict (\`make check-debug\`)"
	echo
	if need "$dbg/summary.txt" "make check-debug"; then
		echo "Suites on the debug kernel (KASAN, KFENCE, UBSAN, kmemleak, lockdep, PROVE_RCU, DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS, fault injection): **$(cat "$dbg/summary.txt")**."
		echo
		echo "Each VM run's verdict (booted, suites ran, powered off; no oops, BUG, WARNING, KASAN, UBSAN, lockdep or atomic-sleep report in the kernel log; kmemleak empty after the suite):"
		echo
		for f in "$dbg"/vm.run.tap "$dbg"/vm.npu_*.tap; do
			[ -f "$f" ] && sed 's/^/    /' "$f"
		done
		echo
	fi

	echo "## Systematic fault injection (\`make check-debug\`: nuq_failnth_test)"
	echo
	fn=$(ls "$dbg"/vm.nuq_failnth_test*.tap 2>/dev/null)
	if [ -z "$fn" ]; then
		echo "**not run**: \`make check-debug\` produces it."
		echo
		missing=1
	else
		for f in $fn; do
			echo "$(basename "$f" .tap): $(tap_counts "$f")"
			echo
			echo "| call | fault points (N-th allocation failed) |"
			echo "| --- | --- |"
			sed -n 's/^# failnth: \(.*\) points=\([0-9]*\).*/| \1 | \2 |/p' "$f"
			echo
		done
	fi

	echo "## Fault scenarios (\`make check\`; on the debug kernel too)"
	echo
	echo "| suite | production kernel |"
	echo "| --- | --- |"
	suite_rows "$res" vm.nuq_reliability_test vm.nuq_npu_fault_test vm.nuq_npu_unplug_test \
		vm.nuq_npu_death_test vm.npu_unplug vm.npu_death vm.nuq_sched_test
	echo

	echo "## Random-syscall stress (\`make check\`: nuq_stress_test; \`make stress\`)"
	echo
	st=$res/vm.nuq_stress_test.tap
	if need "$st" "make check"; then
		echo "Short pass: $(tap_counts "$st"); $(grep -c '^# stress: seed' "$st") seeded runs," \
			"$(sed -n 's/^# stress: \([0-9]*\) operations.*/\1/p' "$st" | awk '{s += $1} END {print s + 0}') operations."
		echo
		echo "| seed | replay |"
		echo "| --- | --- |"
		sed -n 's/^# stress: replay: \(.*--seed \([^ ]*\).*\)/| \2 | `\1` |/p' "$st"
		echo
		echo "Ledger checks (every job and SQE completed exactly once, devices idle, counters balance):" \
			"$(grep -c '^# stress: ok ' "$st") passed, $(grep -c '^# stress: FAIL' "$st") failed."
		echo
	fi
	if [ -f "$res/stress.tap" ]; then
		echo "Long pass: $(cat "$res/stress.tap"); $(sed -n 's/^stress: \([0-9]*\) operations.*/\1/p' "$res/stress.log" 2>/dev/null | awk '{s += $1} END {print s + 0}') operations."
	else
		echo "Long pass: not run in this results directory (\`make stress STRESS_SECONDS=N\`)."
	fi
	echo
	echo "Regression seeds kept: $(cat tests/stress/seeds/*.seed 2>/dev/null | grep -cv '^#')."
	echo

	echo "## Fuzzing (\`make fuzz FUZZ_SECONDS=N\`; briefly in \`make check\`)"
	echo
	if need "$res/fuzz.tap" "make check"; then
		echo "| target | result |"
		echo "| --- | --- |"
		sed -n 's/^\(not \)*ok [0-9]* - fuzz \([^:]*\): *\(.*\)/| \2 | \1ok: \3 |/p' "$res/fuzz.tap"
		echo
		echo "Regression inputs kept in tests/fuzz/corpus/: $(find tests/fuzz/corpus -type f | wc -l)."
		echo
	fi

	echo "## Bad input (\`make check\`)"
	echo
	echo "Values tried by the isolation suite (ioctl, io_uring and descriptor fields near 2^32 and 2^64, overflowing shapes, foreign handles):"
	echo
	iso=$res/vm.nuq_isolation_test.tap
	if need "$iso" "make check"; then
		sed -n 's/^# [^ ]*:[0-9]*:\([^:]*\):\([0-9]* [a-z ]* tried\).*/- \1: \2/p' "$iso" | sort -u
		echo
	fi
	echo "| suite | result |"
	echo "| --- | --- |"
	suite_rows "$res" vm.nuq_basic_test vm.nuq_isolation_test 'unit.unit-san.test_conv_validate' \
		'unit.unit-san.test_nuqfile' 'unit.unit-san.test_onnx' 'unit.unit-san.test_graph'
	echo
} >"$out"

cat "$out"
if [ $missing = 1 ]; then
	echo "reliability-report: some results are missing (see above)" >&2
	exit 1
fi
exit 0
