#!/bin/sh
# Build and locate the nuq debug kernel: Debian's linux-source-6.1 with
# `make tinyconfig` + scripts/debug-kernel.config (KASAN, KFENCE, UBSAN,
# kmemleak, lockdep, fault injection and what the test VM needs).
#
#   debug-kernel.sh build     build it unless the cache is current
#   debug-kernel.sh image     build if needed; print the bzImage path
#   debug-kernel.sh kdir      build if needed; print the tree to build
#                             modules against (make -C KDIR M=...)
#   debug-kernel.sh release   print its kernel release (no build)
#
# The cache is build/cache/debug-kernel/ (NUQ_CACHE overrides build/cache):
# src/ is the unpacked source, obj/ the O= build tree.  obj/.nuq-stamp holds
# a hash of the fragment, the source package version and RECIPE; when it
# matches, nothing runs.  Several callers at once serialize on a lock.
# The build is nice'd and uses NUQ_KERNEL_JOBS (default 2) jobs: the cores
# are shared.
set -eu

# Bump when the way the kernel is built changes (not the fragment: that is
# hashed itself).
RECIPE=2

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${NUQ_CACHE:-$top/build/cache}/debug-kernel
frag=$top/scripts/debug-kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz
src=$cache/src
obj=$cache/obj
jobs=${NUQ_KERNEL_JOBS:-2}

die() { echo "debug-kernel: $*" >&2; exit 1; }
say() { echo "debug-kernel: $*" >&2; }

[ -f "$tarball" ] || die "$tarball is missing (make deps installs linux-source-6.1)"
version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	die "linux-source-6.1 is not installed"
key=$( { cat "$frag"; echo "linux-source-6.1 $version recipe $RECIPE"; } | sha256sum | cut -c1-16)

current() { [ "$(cat "$obj/.nuq-stamp" 2>/dev/null)" = "$key" ]; }

# Every line of the fragment must have survived olddefconfig: a symbol
# whose dependencies are not met is dropped without a word otherwise.
verify() {
	bad=0
	sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*=.*\)$/\1/p' \
		-e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=n/p' "$frag" >"$obj/.nuq-want"
	while IFS= read -r line; do
		sym=${line%%=*}
		want=${line#*=}
		have=$(sed -n "s/^$sym=//p" "$obj/.config")
		if [ "$want" = n ]; then
			[ -z "$have" ] || { say "$sym is $have, the fragment wants it off"; bad=1; }
		elif [ "$have" != "$want" ]; then
			say "$sym is ${have:-not set}, the fragment wants $want"
			bad=1
		fi
	done <"$obj/.nuq-want"
	[ "$bad" -eq 0 ] || die "Kconfig did not keep scripts/debug-kernel.config (see above)"
}

build() {
	mkdir -p "$cache"
	# One builder at a time; the others wait and then find it current.
	exec 9>"$cache/.lock"
	flock 9
	current && return 0

	if [ "$(cat "$src/.nuq-version" 2>/dev/null)" != "$version" ]; then
		say "unpacking linux-source-6.1 $version"
		rm -rf "$src" "$obj"
		mkdir -p "$src"
		tar -xJf "$tarball" -C "$src" --strip-components=1
		echo "$version" >"$src/.nuq-version"
	fi
	mkdir -p "$obj"
	rm -f "$obj/.nuq-stamp"

	say "configuring (tinyconfig + scripts/debug-kernel.config)"
	kmake() { nice -n 19 make -C "$src" O="$obj" "$@"; }
	# ARCH=x86_64: tinyconfig then derives every default from a 64-bit
	# kernel (ARCH=x86 would start 32-bit and keep 32-bit defaults).
	kmake -s ARCH=x86_64 tinyconfig >"$obj/.nuq-config.log" 2>&1 ||
		{ cat "$obj/.nuq-config.log" >&2; die "tinyconfig failed"; }
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$frag" \
		>>"$obj/.nuq-config.log" 2>&1 ||
		{ cat "$obj/.nuq-config.log" >&2; die "merge_config.sh failed"; }
	kmake -s olddefconfig >>"$obj/.nuq-config.log" 2>&1 ||
		{ cat "$obj/.nuq-config.log" >&2; die "olddefconfig failed"; }
	verify

	say "building bzImage and modules with -j$jobs (log: $obj/.nuq-build.log)"
	start=$(date +%s)
	kmake -j"$jobs" bzImage modules >"$obj/.nuq-build.log" 2>&1 ||
		{ tail -n 40 "$obj/.nuq-build.log" >&2; die "the kernel build failed"; }
	[ -f "$obj/Module.symvers" ] || die "no Module.symvers: out-of-tree modules cannot link"
	say "built $(release) in $(( $(date +%s) - start ))s"
	echo "$key" >"$obj/.nuq-stamp"
}

release() { cat "$obj/include/config/kernel.release" 2>/dev/null || echo "6.1-nuq-debug"; }

case "${1:-}" in
build) build ;;
image) build && echo "$obj/arch/x86/boot/bzImage" ;;
kdir) build && echo "$obj" ;;
release) release ;;
*) die "usage: debug-kernel.sh build|image|kdir|release" ;;
esac
