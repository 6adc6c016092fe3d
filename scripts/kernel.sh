#!/bin/sh
# Resolve and fetch the Debian cloud kernel that nuq builds against.
#
#   kernel.sh abi KVER      print the package ABI, e.g. 6.1.0-56-cloud-amd64
#   kernel.sh kdir KVER     print the kernel headers' build directory
#   kernel.sh image KVER    download and unpack the matching image (never
#                           install it) and print the path of its vmlinuz
#
# KVER is a major.minor series: 6.1 comes from bookworm, 6.12 from
# bookworm-backports, which is enabled on demand from the machine's own
# Debian apt source.  Nothing here names a mirror.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${NUQ_CACHE:-$top/build/cache}
flavour=cloud-amd64

die() { echo "kernel.sh: $*" >&2; exit 1; }

# Print "version depends" for each stanza of a package apt knows.
stanzas() {
	apt-cache show "$1" 2>/dev/null | awk '
		/^Version:/ { v = $2 }
		/^Depends:/ { d = $0 }
		/^$/ { if (v != "") print v, d; v = ""; d = "" }
		END { if (v != "") print v, d }'
}

enable_backports() {
	f=/etc/apt/sources.list.d/nuq-bookworm-backports.sources
	[ -f "$f" ] && return 0
	src=/etc/apt/sources.list.d/debian.sources
	[ -f "$src" ] || die "no $src to derive bookworm-backports from"
	# Copy the stanza that carries the plain bookworm suite and point it
	# at bookworm-backports, keeping its URIs and signing key.
	awk 'BEGIN { RS = ""; ORS = "\n\n" }
	     /Suites:[^\n]*bookworm([ \n]|$)/ && !done {
		sub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print; done = 1 }' \
		"$src" >"$f"
	[ -s "$f" ] || { rm -f "$f"; die "no bookworm stanza in $src"; }
	echo "kernel.sh: enabled bookworm-backports" >&2
	apt-get update -qq
}

abi() {
	kver=$1
	line=$(stanzas "linux-image-$flavour" | grep "^$kver\." | sort -V | tail -n 1)
	if [ -z "$line" ] && [ "$kver" != 6.1 ]; then
		enable_backports
		line=$(stanzas "linux-image-$flavour" | grep "^$kver\." | sort -V | tail -n 1)
	fi
	[ -n "$line" ] || die "apt offers no linux-image-$flavour for $kver (run apt-get update?)"
	echo "$line" | sed -n "s/.*linux-image-\([^ ,]*-$flavour\).*/\1/p"
}

case "${1:-}" in
abi)
	abi "${2:-6.1}"
	;;
kdir)
	a=$(abi "${2:-6.1}")
	echo "/usr/src/linux-headers-$a"
	;;
image)
	a=$(abi "${2:-6.1}")
	dir="$cache/kernel/$a"
	if [ ! -f "$dir/.done" ]; then
		rm -rf "$dir" && mkdir -p "$dir"
		(cd "$dir" && apt-get download -qq "linux-image-$a" 2>/dev/null) ||
			die "apt-get download linux-image-$a failed"
		dpkg-deb -x "$dir"/linux-image-*.deb "$dir/root"
		rm -f "$dir"/linux-image-*.deb
		touch "$dir/.done"
	fi
	echo "$dir/root/boot/vmlinuz-$a"
	;;
*)
	die "usage: kernel.sh abi|kdir|image [KVER]"
	;;
esac
