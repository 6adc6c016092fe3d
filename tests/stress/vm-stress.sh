#!/bin/sh
# The long stress pass: boot the test VM (tests/vm/run.sh bench mode with
# NUQ_VM_BENCH holding nuq-stress) and run nuq-stress for STRESS_SECONDS
# with STRESS_SEED (random when empty).  On failure the seed is kept as
# tests/stress/seeds/SEED.seed, a regression input that the short pass
# (the nuq_stress_test kselftest) replays from then on.
#
#   vm-stress.sh RESULTS_DIR        (the environment comes from make stress)
set -u
results=${1:-build/results}
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${STRESS_SECONDS:-300}
seed=${STRESS_SEED:-}
[ -n "$seed" ] || seed=$(printf '0x%04x%04x%04x' $(od -An -N6 -tu2 /dev/urandom))
mkdir -p "$results"
log=$results/stress.log

echo "stress: seed $seed for ${seconds}s in the VM (log: $log)"
# Drains, settling and the boot on top of the run itself.
NUQ_VM_TIMEOUT=$((seconds + 600)) \
NUQ_VM_ENV="STRESS_SEED=$seed STRESS_SECONDS=$seconds${STRESS_PROCS:+ STRESS_PROCS=$STRESS_PROCS}${STRESS_THREADS:+ STRESS_THREADS=$STRESS_THREADS}" \
	"$top/tests/vm/run.sh" bench >"$log" 2>&1
rc=$?
cat "$log"
if [ "$rc" -eq 0 ] && grep -q '^stress: passed seed' "$log"; then
	echo "ok 1 - stress seed $seed, ${seconds}s" >"$results/stress.tap"
	exit 0
fi

# Keep the seed: the replay line nuq-stress printed, else one made here.
args=$(sed -n 's/^stress: replay: nuq-stress //p' "$log" | head -n 1)
[ -n "$args" ] || args="--seed $seed --seconds $seconds"
why=$(grep -m1 -E '^stress: (VIOLATION|UNEXPECTED|FAIL )|^vm: FAILED' "$log")
f=$top/tests/stress/seeds/$seed.seed
{
	echo "# found by make stress on $(date -u +%Y-%m-%d) (${seconds}s): ${why:-the run failed}"
	grep -m3 -E 'BUG:|WARNING:|Oops|INFO: task|general protection' "$log" | sed 's/^/# /'
	echo "$args"
} >"$f"
echo "not ok 1 - stress seed $seed, ${seconds}s: ${why:-failed}" >"$results/stress.tap"
echo "stress: FAILED; kept as $f (replayed by the short pass)" >&2
exit 1
