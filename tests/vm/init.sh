#!/bin/busybox sh
# /init of the nuq test VM.  Kernel messages go to ttyS0; everything this
# script and the tests print goes to ttyS1, which the host reads as TAP.
#
# Kernel command line (unknown key=value pairs become our environment):
#   nuq_mode=test|demo|bench|shell   what to run
#   nuq_tests=a,b              run only the selftests whose name contains a or b
#   nuq_skip=c,d               and none whose name contains c or d
#   nuq_params="..."           module parameters for the first insmod
#   nuq_timeout_scale=N        NUQ_TEST_TIMEOUT_SCALE on the debug kernel (default 8)

/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs tmp /tmp
export NUQ_KO=/lib/modules/nuq.ko HOME=/tmp

# kmemleak (debug kernel only): whatever boot left unreferenced is not
# ours; mark it reported so that the scan in finish() shows only the
# suite's leaks.  An object is reported once two scans found it unchanged.
kmemleak=/sys/kernel/debug/kmemleak
if [ -e "$kmemleak" ]; then
	echo scan >"$kmemleak"; echo scan >"$kmemleak"; echo clear >"$kmemleak"
fi

out=/dev/ttyS1
[ "${nuq_mode:-test}" = shell ] && out=/dev/console

finish() {
	if [ -e "$kmemleak" ]; then
		echo scan >"$kmemleak"; echo scan >"$kmemleak"
		echo "NUQ-KMEMLEAK-BEGIN"
		cat "$kmemleak"
		echo "NUQ-KMEMLEAK-END"
	fi
	echo "NUQ-VM-TAINT $(cat /proc/sys/kernel/tainted)" >"$out"
	echo "NUQ-VM-EXIT $1" >"$out"
	# The whole kernel log, for the host to scan for WARN/BUG/oops.
	echo "NUQ-DMESG-BEGIN"
	dmesg
	echo "NUQ-DMESG-END"
	sync
	poweroff -f
}

# shellcheck disable=SC2086
if ! insmod "$NUQ_KO" ${nuq_params:-}; then
	echo "not ok 1 - insmod nuq.ko" >"$out"
	finish 1
fi

rc=0
# The debug kernel (KASAN, lockdep, ... under TCG) is several times slower:
# the selftests scale their timeouts and latency bounds by this.
case "$(uname -r)" in
*nuq-debug*) export NUQ_TEST_TIMEOUT_SCALE=${nuq_timeout_scale:-8} ;;
esac

# A suite that failed half-way may leave nuq.ko unloaded; load it again so
# that one failure does not fail every suite after it.
ensure_loaded() {
	[ -d /sys/module/nuq ] && return 0
	echo "# init: $1 left nuq.ko unloaded; loading it again" >"$out"
	# shellcheck disable=SC2086
	insmod "$NUQ_KO" ${nuq_params:-}
}

# Suites that take their device from $NUQ_TEST_DEVICE.
per_device="nuq_job_test"
case "${nuq_mode:-test}" in
test)
	for t in /tests/*; do
		name=${t##*/}
		if [ -n "${nuq_tests:-}" ]; then
			want=
			for w in $(echo "$nuq_tests" | tr , ' '); do
				case "$name" in *"$w"*) want=1 ;; esac
			done
			[ -n "$want" ] || continue
		fi
		skipped=
		for w in $(echo "${nuq_skip:-}" | tr , ' '); do
			case "$name" in *"$w"*) skipped=1 ;; esac
		done
		[ -z "$skipped" ] || continue
		echo "NUQ-TAP-BEGIN $name" >"$out"
		"$t" >"$out" 2>&1
		r=$?
		echo "NUQ-TAP-END $name $r" >"$out"
		[ "$r" -eq 0 ] || rc=1
		ensure_loaded "$name"
		# Device-neutral suites run again on every other device (the NPU).
		case " $per_device " in *" $name "*) ;; *) continue ;; esac
		for d in /dev/nuq*; do
			case "$d" in /dev/nuq0) continue ;; esac
			[ -e "$d" ] || continue
			echo "NUQ-TAP-BEGIN $name@${d#/dev/}" >"$out"
			NUQ_TEST_DEVICE=$d "$t" >"$out" 2>&1
			r=$?
			echo "NUQ-TAP-END $name@${d#/dev/} $r" >"$out"
			[ "$r" -eq 0 ] || rc=1
			ensure_loaded "$name@${d#/dev/}"
		done
	done
	;;
demo)
	/bin/nuq-demo.sh >"$out" 2>&1 || rc=$?
	;;
bench)
	for b in /bench/*; do
		"$b" >"$out" 2>&1 || rc=$?
	done
	;;
shell)
	echo "nuq VM: nuq.ko is loaded; tests are in /tests; 'poweroff -f' to leave."
	setsid cttyhack sh
	;;
esac
finish $rc
