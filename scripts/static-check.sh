#!/bin/sh
# Static checks of the kernel side, one TAP line each:
#  - checkpatch.pl --strict on every file compiled into nuq.ko
#  - a W=1 build without warnings against every supported kernel series
set -u
results=$1
top=$(cd "$(dirname "$0")/.." && pwd)
checkpatch=$top/build/cache/linux-tools/scripts/checkpatch.pl
out="$results/static.tap"
mkdir -p "$results"
: >"$out"
n=0
status=0

tap() { # tap OK|FAIL description
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2" | tee -a "$out"
	else
		echo "not ok $n - $2" | tee -a "$out"
		status=1
	fi
}

cd "$top" || exit 1
for f in $(ls kmod/*.[ch] kmod/hw/*.h kmod/include/uapi/linux/*.h core/*.[ch] 2>/dev/null); do
	ignore=
	# The compat header exists to compare kernel versions; nothing else may.
	[ "$f" = kmod/nuq_compat.h ] && ignore="--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON"
	# shellcheck disable=SC2086
	if perl "$checkpatch" --strict --no-tree --terse --quiet $ignore -f "$f" \
		>"$results/checkpatch.log" 2>&1; then
		tap OK "checkpatch --strict $f"
	else
		sed 's/^/    /' "$results/checkpatch.log"
		tap FAIL "checkpatch --strict $f"
	fi
done

for kver in ${NUQ_KVERS:-6.1 6.12}; do
	if make --no-print-directory -s module KVER="$kver" >"$results/w1-$kver.log" 2>&1; then
		tap OK "W=1 build of nuq.ko without warnings for $kver ($(scripts/kernel.sh abi "$kver"))"
	else
		sed 's/^/    /' "$results/w1-$kver.log" | tail -n 40
		tap FAIL "W=1 build of nuq.ko without warnings for $kver"
	fi
done
echo "1..$n" >>"$out"
exit $status
