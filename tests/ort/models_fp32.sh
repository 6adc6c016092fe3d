#!/bin/sh
# nuq's fp32 executor against onnxruntime-node (test-only) on the non-OCR
# models (Documentation/models.rst, "Models beyond OCR"): each model on a
# real photo from Debian's opencv-doc, every graph output compared, max
# |nuq - onnxruntime| within TOL (1e-4) of the output's largest |value|.
# M-LSD's scores are peak-suppressed inside the graph (score * (score ==
# MaxPool(score))): a near-tie between neighbours is decided by rounding,
# so there a peak that only one side keeps must be weak (< 0.01; segments
# are taken above 0.1) and the peaks both keep must match as above.
# Prints TAP.
#
#   models_fp32.sh MODEL_INPUT GRAPH_REF ORT_NODE_MODULES MODELS_DIR
set -u
mkin=$1 ref=$2 ort=$3 models=$4
top=$(cd "$(dirname "$0")/../.." && pwd)
html=/usr/share/doc/opencv-doc/opencv4/html
data=/usr/share/doc/opencv-doc/examples/data
tol=1e-4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TAP_VERBOSE=1
. "$top/tests/cli/tap.sh"

# both MODEL SIZE INPUT_OPTIONS... -- IMAGE SCALE OFFSET: the input, then
# onnxruntime's and nuq's outputs in $tmp/ort and $tmp/nuq
both() {
	model=$1 size=$2
	shift 2
	rm -rf "$tmp/ort" "$tmp/nuq"
	mkdir -p "$tmp/ort" "$tmp/nuq"
	opts=
	while [ "$1" != -- ]; do opts="$opts $1"; shift; done
	shift
	# shellcheck disable=SC2086
	"$mkin" $opts "$1" "$size" "$size" nhwc "$2" "$3" "$tmp/in.f32" >"$tmp/in.shape" || return 1
	NODE_PATH=$ort node "$top/tests/ort/ort_outputs.js" "$models/$model" "$tmp/in.f32" \
		"$(cat "$tmp/in.shape")" "$tmp/ort" >/dev/null || return 1
	"$ref" runall "$models/$model" "$tmp/in.f32" "$(cat "$tmp/in.shape")" "$tmp/nuq"
}

# outputs: every onnxruntime output has nuq's counterpart within $tol
outputs() {
	bad=0 k=0
	for f in "$tmp/ort"/*.f32; do
		o=$(basename "$f")
		k=$((k + 1))
		printf '%s: ' "$o"
		if [ "$o" = scores.f32 ]; then
			"$ref" peaks "$f" "$tmp/nuq/$o" "$tol" 0.01 || bad=1
		else
			"$ref" rcmp "$f" "$tmp/nuq/$o" "$tol" || bad=1
		fi
	done
	[ "$k" -gt 0 ] && [ "$bad" -eq 0 ]
}

bf=blazeface
bf_norm="0.00784313725 -1"
# name model size input-options -- image scale offset
while read -r name model size rest; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086
	check "$name: nuq's fp32 executor runs it" both "$model" "$size" $rest
	check "  every output within $tol (relative to its largest value) of onnxruntime" outputs
done <<EOF
BlazeFace-128 $bf/face_detection_front_128x128_barracuda.onnx 128 -- $html/facereg.jpg $bf_norm
BlazeFace-256 $bf/face_detection_back_256x256_barracuda.onnx 256 --crop 64,0,342,342 -- $data/messi5.jpg $bf_norm
M-LSD-320-tiny mlsd/mlsd_320x320_tiny.onnx 320 --alpha 1 -- $data/building.jpg 1 0
M-LSD-320-large mlsd/mlsd_320x320_large.onnx 320 --alpha 1 -- $data/building.jpg 1 0
M-LSD-512-tiny mlsd/mlsd_512x512_tiny.onnx 512 --alpha 1 -- $data/building.jpg 1 0
M-LSD-512-large mlsd/mlsd_512x512_large.onnx 512 --alpha 1 -- $data/building.jpg 1 0
EOF
echo "1..$n"
[ "$failed" -eq 0 ]
