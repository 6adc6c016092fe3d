#!/bin/sh
# The fp32 references of the non-OCR models (Documentation/models.rst,
# "Models beyond OCR"): each model on one real photo from Debian's
# opencv-doc, run by onnxruntime-node (test-only), decoded by
# detections.js and checked against what is in the photo (where the faces
# are, the strongest building edge).  This checks the install, the
# preprocessing and the decoding that the nuq-vs-onnxruntime tests build
# on.  Prints TAP.
#
#   models_ref.sh MODEL_INPUT ONNX_INFO ORT_NODE_MODULES MODELS_DIR [OUTDIR]
#
# OUTDIR keeps, per case, in.f32 and in.shape (the input), ort/*.f32 (every
# output), ort.txt (their summary) and detections.txt.
set -u
mkin=$1 info=$2 ort=$3 models=$4 keep=${5:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
html=/usr/share/doc/opencv-doc/opencv4/html
data=/usr/share/doc/opencv-doc/examples/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TAP_VERBOSE=1
. "$top/tests/cli/tap.sh"

# BlazeFace takes RGB in [-1, 1]; M-LSD RGB in [0, 255] plus alpha 1.
bf_norm="0.00784313725 -1"

# reference CASE MODEL SIZE KIND INPUT_OPTIONS... -- IMAGE SCALE OFFSET
reference() {
	case=$1 model=$2 size=$3 kind=$4
	shift 4
	d="$tmp/$case"
	mkdir -p "$d/ort"
	opts=
	while [ "$1" != -- ]; do opts="$opts $1"; shift; done
	shift
	# shellcheck disable=SC2086
	"$mkin" $opts "$1" "$size" "$size" nhwc "$2" "$3" "$d/in.f32" >"$d/in.shape" || return 1
	NODE_PATH=$ort node "$top/tests/ort/ort_outputs.js" "$models/$model" "$d/in.f32" \
		"$(cat "$d/in.shape")" "$d/ort" >"$d/ort.txt" || return 1
	NODE_PATH=$ort node "$top/tests/ort/detections.js" "$kind" "$size" "$d/ort" \
		>"$d/detections.txt" || return 1
	cat "$d/ort.txt" "$d/detections.txt"
}

# near FILE TAG INDEX "V1 V2..." TOL: the INDEX-th TAG line's values
# (after the score) are each within TOL of V1 V2...
near() {
	awk -v tag="$2" -v k="$3" -v want="$4" -v tol="$5" '
		$1 == tag && ++i == k { line = $0; n = split(want, w, " ")
			for (j = 1; j <= n; j++) {
				dv = $(j + 2) - w[j]
				if (dv > tol || dv < -tol) { print "off: " line; exit 1 }
			}
			found = 1 }
		END { if (!found) { print "no " tag " " k; exit 1 } }' "$1"
}

# count FILE TAG LO HI: the "TAG N" line has LO <= N <= HI
count() {
	awk -v tag="$2" -v lo="$3" -v hi="$4" '
		$1 == tag { n = $2; found = 1 }
		END { if (!found || n < lo || n > hi) { print tag " " n; exit 1 } }' "$1"
}

# faces FILE N MIN: exactly N faces, each scoring at least MIN
faces() {
	count "$1" faces "$2" "$2" &&
		awk -v m="$3" '$1 == "face" && $2 < m { print; bad = 1 } END { exit bad }' "$1"
}

bf=blazeface
# info MODEL INPUT_LINE OUTPUTS: onnx_info loads MODEL (exit 0, or 3 for
# ops nuq lacks), prints INPUT_LINE and OUTPUTS graph outputs
info() {
	"$info" "$models/$1" >"$tmp/info"
	rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || return 1
	grep "^input \|^output \|missing" "$tmp/info"
	grep -qxF "$2" "$tmp/info" && [ "$(grep -c '^output ' "$tmp/info")" -eq "$3" ]
}

check "onnx_info reads BlazeFace 128: NHWC input [1,128,128,3], 4 outputs" \
	info $bf/face_detection_front_128x128_barracuda.onnx "input input:0 float32 [1,128,128,3]" 4
check "onnx_info reads BlazeFace 256: NHWC input [1,256,256,3], 4 outputs" \
	info $bf/face_detection_back_256x256_barracuda.onnx "input input:0 float32 [1,256,256,3]" 4
for m in 320x320_tiny 320x320_large 512x512_tiny 512x512_large; do
	s=${m%%x*}
	check "onnx_info reads M-LSD $m: RGBA input [1,$s,$s,4], offsets and scores" \
		info mlsd/mlsd_$m.onnx "input input_image_with_alpha:0 float32 [1,$s,$s,4]" 2
done

check "BlazeFace 128 on a portrait (face_swapped.jpg) runs in onnxruntime" \
	reference bf128-portrait $bf/face_detection_front_128x128_barracuda.onnx 128 blazeface \
	-- "$html/face_swapped.jpg" $bf_norm
f="$tmp/bf128-portrait/detections.txt"
check "  one face, score >= 0.9" faces "$f" 1 0.9
check "  centred on the face (65,59), 47 px wide (+-3)" near "$f" face 1 "65.5 59.2 47.2 47.2" 3

check "BlazeFace 128 on four portraits (facereg.jpg) runs in onnxruntime" \
	reference bf128-four $bf/face_detection_front_128x128_barracuda.onnx 128 blazeface \
	-- "$html/facereg.jpg" $bf_norm
f="$tmp/bf128-four/detections.txt"
check "  four faces, each scoring >= 0.85" faces "$f" 4 0.85
for q in "1 29.8 96.6" "2 94.9 32.9" "3 96.2 93.4" "4 31.0 30.7"; do
	# shellcheck disable=SC2086
	set -- $q
	check "  face $1 at ($2,$3) (+-3), 40 px wide" near "$f" face "$1" "$2 $3 40 40" 3
done

check "BlazeFace 256 on a football photo (messi5.jpg, square crop) runs in onnxruntime" \
	reference bf256-messi $bf/face_detection_back_256x256_barracuda.onnx 256 blazeface \
	--crop 64,0,342,342 -- "$data/messi5.jpg" $bf_norm
f="$tmp/bf256-messi/detections.txt"
check "  one face (the player's), score >= 0.9" faces "$f" 1 0.9
check "  at (132,86), 27 px (+-3)" near "$f" face 1 "132.1 86.1 27.2 27.2" 3

for m in tiny large; do
	check "M-LSD 320 $m on a building (building.jpg) runs in onnxruntime" \
		reference mlsd320-$m mlsd/mlsd_320x320_$m.onnx 320 mlsd \
		--alpha 1 -- "$data/building.jpg" 1 0
done
f="$tmp/mlsd320-tiny/detections.txt"
check "  tiny: 100-135 segments above 0.1" count "$f" lines 100 135
check "  tiny: the strongest is the vertical edge x=103, y 235-262 (+-2)" \
	near "$f" line 1 "103.2 235.5 103.5 262.4" 2
f="$tmp/mlsd320-large/detections.txt"
check "  large: 105-140 segments above 0.1" count "$f" lines 105 140

if [ -n "$keep" ]; then
	mkdir -p "$keep" && cp -r "$tmp"/bf* "$tmp"/mlsd* "$keep"/
fi
echo "1..$n"
[ "$failed" -eq 0 ]
