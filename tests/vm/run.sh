#!/bin/sh
# Boot the nuq test VM under QEMU (TCG) and judge the run.
#
#   run.sh test RESULTS_DIR [NAMES [SKIP]]
#                                     kselftests whose name contains one of the
#                                     comma-separated NAMES (all if empty) and
#                                     none of SKIP; TAP into RESULTS_DIR/vm.*.tap,
#                                     the run's own verdict into vm.$NUQ_VM_RUN.tap
#                                     (default vm.run.tap)
#   run.sh demo                       the demo program; prints its output
#   run.sh bench                      the benchmarks in NUQ_VM_BENCH; prints their output
#   run.sh shell                      interactive shell on the VM console
#
# Environment (set by the Makefile): NUQ_KO, NUQ_SELFTESTS, NUQ_VM_BIN,
# NUQ_KVER, NUQ_NPU_EMU; optional NUQ_VM_TIMEOUT (seconds, default 600),
# NUQ_PARAMS (module parameters), NUQ_VM_DATA (a directory overlaid on the
# root), NUQ_VM_KEEP=1 keeps the temp dir, NUQ_NPU=0 boots without the NPU,
# NUQ_NPU_ENGINES (default 2), NUQ_NPU_ARGS (more emulator options, e.g.
# "--mac-rate 2"), NUQ_VM_ENV (KEY=VALUE words for the guest's environment,
# e.g. NUQ_DEVICE=/dev/nuq0), NUQ_VM_KERNEL (boot this image instead of
# Debian's, e.g. the debug kernel), NUQ_VM_APPEND (more kernel parameters).
#
# The NPU: the emulator (NUQ_NPU_EMU, a host program) is the ivshmem server
# that QEMU's ivshmem-doorbell device connects to.  QEMU reads the server's
# setup messages while it realizes the device, so the emulator must be
# listening before QEMU starts: it prints "listening on" once it is, and
# only then is QEMU started.  Guest RAM is a shared file the emulator maps
# (real DMA by guest-physical address).  The emulator's control socket is
# the guest's third serial port (/dev/ttyS2: one command line, one reply
# line), and it reaches the QEMU monitor to unplug the device (device_del).
#
# A run fails on: a missing exit sentinel, a non-zero QEMU status, any
# oops/BUG/WARN/panic in the kernel log, a taint other than O (out-of-tree)
# and E (unsigned), or a failing test.  Every run has its own temp dir.
set -u

mode=${1:-test}
results=${2:-}
names=${3:-}
skip=${4:-}
run_label=${NUQ_VM_RUN:-run}
top=$(cd "$(dirname "$0")/../.." && pwd)
timeout_s=${NUQ_VM_TIMEOUT:-600}

die() { echo "vm: $*" >&2; exit 1; }

vmlinuz=${NUQ_VM_KERNEL:-$("$top/scripts/kernel.sh" image "${NUQ_KVER:-6.1}")} || die "no kernel image"
[ -f "$vmlinuz" ] || die "no kernel image at $vmlinuz"
[ -f "${NUQ_KO:-}" ] || die "NUQ_KO=${NUQ_KO:-} is not a built nuq.ko"
busybox=$(command -v busybox) || die "busybox-static is not installed"

# The emulator, once started, is stopped on every way out.
npu_pid=
npu_rc=0
stop_npu() {
	[ -n "$npu_pid" ] || return 0
	kill -TERM "$npu_pid" 2>/dev/null
	wait "$npu_pid" 2>/dev/null
	npu_rc=$?
	npu_pid=
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nuq-vm.XXXXXX") || die "mktemp failed"
if [ -z "${NUQ_VM_KEEP:-}" ]; then
	trap 'stop_npu; rm -rf "$tmp"' EXIT
else
	trap 'stop_npu' EXIT
	echo "vm: keeping $tmp"
fi

# --- initramfs -------------------------------------------------------------
root=$tmp/root
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" \
	"$root/tmp" "$root/lib/modules" "$root/tests" "$root/bench"
cp "$busybox" "$root/bin/busybox"
cp "$top/tests/vm/init.sh" "$root/init"
cp "$top/tests/vm/demo.sh" "$root/bin/nuq-demo.sh"
cp "$NUQ_KO" "$root/lib/modules/nuq.ko"
[ -d "${NUQ_SELFTESTS:-}" ] && cp "$NUQ_SELFTESTS"/* "$root/tests/" 2>/dev/null
[ -d "${NUQ_VM_BIN:-}" ] && cp "$NUQ_VM_BIN"/* "$root/bin/" 2>/dev/null
[ -d "${NUQ_VM_BENCH:-}" ] && cp "$NUQ_VM_BENCH"/* "$root/bench/" 2>/dev/null
# Data the demo needs (models, fonts, the scanned page), as a tree to overlay.
[ -d "${NUQ_VM_DATA:-}" ] && cp -a "$NUQ_VM_DATA"/. "$root/" 
chmod +x "$root/init" "$root/bin/"* "$root/tests/"* "$root/bench/"* 2>/dev/null
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initrd.gz" ||
	die "building the initramfs failed"

# --- boot ------------------------------------------------------------------
append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 quiet nuq_mode=$mode"
# After the defaults, so that e.g. panic_on_warn=0 overrides them.
[ -n "${NUQ_VM_APPEND:-}" ] && append="$append $NUQ_VM_APPEND"
[ -n "$names" ] && append="$append nuq_tests=$names"
[ -n "$skip" ] && append="$append nuq_skip=$skip"
# KEY=VALUE words the kernel does not know reach /init as environment.
[ -n "${NUQ_VM_ENV:-}" ] && append="$append $NUQ_VM_ENV"
[ -n "${NUQ_PARAMS:-}" ] && append="$append nuq_params=\"$NUQ_PARAMS\""

klog=$tmp/kernel.log
tap=$tmp/ttyS1.log
set -- qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64,-cx16 -m 1G -smp 2 \
	-kernel "$vmlinuz" -initrd "$tmp/initrd.gz" -append "$append" \
	-display none -no-reboot

# --- the NPU emulator, listening before QEMU starts --------------------------
if [ "${NUQ_NPU:-1}" != 0 ] && [ -x "${NUQ_NPU_EMU:-}" ]; then
	engines=${NUQ_NPU_ENGINES:-2}
	truncate -s 1G "$tmp/guest-ram" || die "no room for the guest RAM file"
	# shellcheck disable=SC2086
	"$NUQ_NPU_EMU" --socket "$tmp/npu.sock" --guest-ram "$tmp/guest-ram" \
		--engines "$engines" --control "$tmp/npu.ctl" \
		--qemu-monitor "$tmp/monitor.sock" --qemu-device-id npu0 \
		${NUQ_NPU_ARGS:-} >"$tmp/npu-emu.out" 2>"$tmp/npu-emu.log" &
	npu_pid=$!
	i=0
	until grep -q 'listening on' "$tmp/npu-emu.out" 2>/dev/null; do
		kill -0 "$npu_pid" 2>/dev/null || { cat "$tmp/npu-emu.log" >&2; die "the NPU emulator exited"; }
		i=$((i + 1))
		[ "$i" -lt 200 ] || die "the NPU emulator is not listening after 10 s"
		sleep 0.05
	done
	set -- "$@" -machine q35,memory-backend=guestram \
		-object memory-backend-file,id=guestram,size=1G,mem-path="$tmp/guest-ram",share=on \
		-device pcie-root-port,id=rp0,chassis=1,slot=1 \
		-chardev socket,id=npu0sock,path="$tmp/npu.sock" \
		-device ivshmem-doorbell,id=npu0,chardev=npu0sock,vectors=$((engines + 1)),bus=rp0 \
		-chardev socket,id=npuctl,path="$tmp/npu.ctl" \
		-monitor unix:"$tmp/monitor.sock",server=on,wait=off
	npu_serial="-serial chardev:npuctl"
else
	set -- "$@" -monitor none
	npu_serial=
fi

if [ "$mode" = shell ]; then
	# shellcheck disable=SC2086
	"$@" -serial mon:stdio -serial null $npu_serial
	stop_npu
	exit 0
fi

start=$(date +%s)
# shellcheck disable=SC2086
timeout --foreground -k 10 "$timeout_s" "$@" -serial "file:$klog" -serial "file:$tap" \
	$npu_serial </dev/null >"$tmp/qemu.out" 2>&1
qrc=$?
secs=$(( $(date +%s) - start ))
stop_npu

# Serial logs carry \r\n.
for f in "$klog" "$tap"; do
	[ -f "$f" ] && tr -d '\r' <"$f" >"$f.txt" || : >"$f.txt"
done

fail=
exitline=$(grep -a '^NUQ-VM-EXIT ' "$tap.txt" | tail -n 1)
taint=$(sed -n 's/^NUQ-VM-TAINT //p' "$tap.txt" | tail -n 1)
if [ "$qrc" -eq 124 ]; then
	fail="$fail qemu timed out after ${timeout_s}s;"
elif [ "$qrc" -ne 0 ]; then
	fail="$fail qemu exited with status $qrc;"
fi
[ -n "$exitline" ] || fail="$fail no exit sentinel (the VM died or hung);"
if grep -aqE 'Oops|BUG:|WARNING:|Kernel panic|general protection fault|Call Trace:|KASAN|UBSAN|kernel BUG' "$klog.txt"; then
	fail="$fail the kernel log has an oops/BUG/WARN/panic;"
fi
# (The debug kernel's reports match the above too: KASAN, KFENCE and atomic
# sleeps print "BUG:", lockdep and RCU "WARNING:", all a "Call Trace:".)
# kmemleak (debug kernel): init.sh scans after the suite and prints the
# report between markers; any unreferenced object fails the run.
kmemleak=$(sed -n '/^NUQ-KMEMLEAK-BEGIN/,/^NUQ-KMEMLEAK-END/p' "$klog.txt")
if echo "$kmemleak" | grep -q '^unreferenced object'; then
	fail="$fail kmemleak: $(echo "$kmemleak" | grep -c '^unreferenced object') leaked objects;"
fi
grep -q . "$tmp/qemu.out" 2>/dev/null && sed 's/^/vm: qemu: /' "$tmp/qemu.out" >&2
# The emulator exits 0 when QEMU goes away or on SIGTERM; a crash, a
# sanitizer report or an error exit is a failure (a test that asks it to
# die on purpose leaves "exit requested" in its log).
if [ -f "$tmp/npu-emu.log" ]; then
	if [ "$npu_rc" -ne 0 ] && ! grep -q 'exit requested' "$tmp/npu-emu.log"; then
		fail="$fail the NPU emulator exited with status $npu_rc;"
	fi
	if grep -qE 'ERROR: (Address|Undefined)Sanitizer|runtime error:' "$tmp/npu-emu.log"; then
		fail="$fail the NPU emulator reported a sanitizer error;"
	fi
	[ -n "$results" ] && mkdir -p "$results" && cp "$tmp/npu-emu.log" "$results/npu-emu.$run_label.log"
fi
# Taint: only O (bit 12, out-of-tree) and E (bit 13, unsigned) are expected.
if [ -n "$taint" ] && [ $((taint & ~(4096 | 8192))) -ne 0 ]; then
	fail="$fail kernel tainted $taint (other than O/E);"
fi

case "$mode" in
test)
	mkdir -p "$results"
	# Split ttyS1 into one TAP file per selftest binary.
	awk -v dir="$results" '
		/^NUQ-TAP-BEGIN / { f = dir "/vm." $2 ".tap"; printf "" > f; next }
		/^NUQ-TAP-END / {
			if ($3 != 0 && !bad[f]) print "not ok - " $2 " exited with status " $3 >> f
			close(f); f = ""; next
		}
		f != "" { print >> f; if ($0 ~ /^not ok /) bad[f] = 1 }
	' "$tap.txt"
	sed -e '/^NUQ-/d' -e 's/^/    /' "$tap.txt"
	n=0
	if [ -n "$fail" ]; then
		echo "not ok 1 - vm $run_label:$fail" >"$results/vm.$run_label.tap"
	else
		echo "ok 1 - vm $run_label: booted, tests ran, powered off in ${secs}s, taint $taint" \
			>"$results/vm.$run_label.tap"
	fi
	cat "$results/vm.$run_label.tap"
	;;
demo | bench)
	sed '/^NUQ-/d' "$tap.txt"
	echo "(VM: ${secs}s from boot to poweroff, ${exitline:-no exit line})"
	;;
esac

if [ -n "$fail" ] || [ "${exitline#NUQ-VM-EXIT }" != 0 ]; then
	echo "vm: FAILED:${fail:- a test failed}" >&2
	echo "vm: kernel log tail:" >&2
	sed -n '/^NUQ-DMESG-BEGIN/,/^NUQ-DMESG-END/p' "$klog.txt" | tail -n 60 >&2
	[ -s "$klog.txt" ] && ! grep -q NUQ-DMESG-BEGIN "$klog.txt" && tail -n 60 "$klog.txt" >&2
	echo "$kmemleak" | grep -q '^unreferenced object' && echo "$kmemleak" | head -n 60 >&2
	if [ -s "$tmp/npu-emu.log" ]; then
		echo "vm: NPU emulator log tail:" >&2
		tail -n 30 "$tmp/npu-emu.log" >&2
	fi
	exit 1
fi
exit 0
