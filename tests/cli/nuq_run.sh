#!/bin/sh
# nuq run on a model that is not OCR (BlazeFace, from npm; Documentation/
# models.rst), as a user would call it: a photo or a .npy array as the
# input, fp32 and quantized side by side, every output compared and
# saved; nuq calibrate on a folder of photos; the OCR pipeline's rename
# to nuq ocr; clear errors.  The fp32 output nuq run saves must be the
# graph executor's own on the same tensor (graph_ref, which make
# models-fp32 checks against onnxruntime), bit for bit.  Prints TAP.
#
#   nuq_run.sh NUQ GRAPH_REF MODEL_INPUT MODELS_DIR
set -u
nuq=$1 ref=$2 mkin=$3 models=$4
html=/usr/share/doc/opencv-doc/opencv4/html
data=/usr/share/doc/opencv-doc/examples/data
bf=$models/blazeface/face_detection_front_128x128_barracuda.onnx
photo=$html/facereg.jpg
norm="--scale 0.00784313725 --mean 1"	# BlazeFace takes v / 127.5 - 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

if [ ! -f "$bf" ]; then
	echo "1..0 # SKIP no $bf: run make deps"
	exit 0
fi

# npy_data FILE: the raw data of a .npy file (after its header).
npy_data() {
	hlen=$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')
	tail -c +$((10 + hlen + 1)) "$1"
}

# npy_wrap IN SHAPE OUT [DESCR]: wrap raw data (float32 by default) in a
# version 1.0 header, as numpy.save writes it.
npy_wrap() {
	hdr="{'descr': '${4:-<f4}', 'fortran_order': False, 'shape': ($2), }"
	pad=$((63 - (10 + ${#hdr}) % 64))
	{
		printf '\223NUMPY\001\000'
		len=$((${#hdr} + pad + 1))
		printf "$(printf '\\%03o\\%03o' $((len % 256)) $((len / 256)))"
		printf '%s%*s\n' "$hdr" "$pad" ""
		cat "$1"
	} >"$3"
}

version() {
	"$nuq" --version | grep -q '^nuq [0-9]*\.[0-9]*\.[0-9]* (libnuq'
}
check "nuq --version names the release and the interfaces" version

run_photo() {
	mkdir -p "$tmp/save"
	# shellcheck disable=SC2086
	"$nuq" run "$bf" --input "$photo" $norm --cpu --save "$tmp/save" >"$tmp/run" || return 1
	cat "$tmp/run"
	grep -q "input 'input:0' 1x128x128x3  from NHWC 1x128x128x3, RGB" "$tmp/run" || return 1
	grep -q 'bits per weight, all included' "$tmp/run" || return 1
	grep -q 'as integer jobs on libnuq' "$tmp/run" || return 1
	# the 4 heads (a score and a box conv per anchor grid) stay fp32, and say why
	[ "$(grep -c '^  in fp32: .* (Conv): a head: a graph output follows' "$tmp/run")" -eq 4 ] ||
		return 1
	# every one of the model's 4 outputs compared, with an SQNR and top-1
	[ "$(grep -c 'SQNR .* dB  max |diff| .* top-1 ' "$tmp/run")" -eq 4 ] || return 1
	[ "$(ls "$tmp/save" | wc -l)" -eq 8 ]
}
check "nuq run BlazeFace on a photo: every output compared and saved" run_photo

saved_is_the_executors() {
	# shellcheck disable=SC2086
	"$mkin" "$photo" 128 128 nhwc 0.00784313725 -1 "$tmp/in.f32" >/dev/null || return 1
	mkdir -p "$tmp/ref"
	"$ref" runall "$bf" "$tmp/in.f32" 1,128,128,3 "$tmp/ref" >/dev/null || return 1
	for o in Identity_0 Identity_1_0 Identity_2_0 Identity_3_0; do
		npy_data "$tmp/save/$o.npy" >"$tmp/$o.raw"
		cmp "$tmp/$o.raw" "$tmp/ref/$o.f32" || return 1
	done
}
check "  the saved fp32 outputs are the graph executor's, bit for bit" saved_is_the_executors

npy_input() {
	npy_wrap "$tmp/in.f32" "1, 128, 128, 3" "$tmp/in.npy"
	mkdir -p "$tmp/npy"
	"$nuq" run "$bf" --input input:0="$tmp/in.npy" --fp32 --save "$tmp/npy" >"$tmp/r2" ||
		return 1
	grep -q "from $tmp/in.npy (.npy)" "$tmp/r2" || return 1
	cmp "$tmp/npy/Identity_0.npy" "$tmp/save/Identity_0.npy"
}
check "  a .npy input (NAME=FILE) gives the same outputs as the photo" npy_input

calibrate_folder() {
	mkdir -p "$tmp/photos"
	cp "$data/messi5.jpg" "$data/baboon.jpg" "$html/messi_face.jpg" "$tmp/photos/" 2>/dev/null ||
		cp "$data/messi5.jpg" "$data/baboon.jpg" "$tmp/photos/"
	"$nuq" quantize "$bf" -o "$tmp/bf.nuq" >/dev/null || return 1
	# shellcheck disable=SC2086
	"$nuq" calibrate "$bf" --nuq "$tmp/bf.nuq" --images "$tmp/photos" $norm >"$tmp/c" || return 1
	grep -q "wrote $tmp/bf.calib (percentile, [23] inputs from $tmp/photos" "$tmp/c" || return 1
	# shellcheck disable=SC2086
	"$nuq" run "$bf" --nuq "$tmp/bf.nuq" -i "$photo" $norm --cpu >"$tmp/r3" || return 1
	grep -q "weights from $tmp/bf.nuq" "$tmp/r3" && grep -q "ranges from $tmp/bf.calib" "$tmp/r3"
}
check "nuq calibrate on a folder of photos; nuq run --nuq uses the .nuq and the ranges" \
	calibrate_folder

# nuq quantize --calib-dir rounds the weights on the photos: the same
# weights as nuq run's in-memory quantization on them (same outputs, bit
# for bit), others than nearest rounding's (the layouts may differ too:
# the choice weighs output errors), which NUQ_GPTQ=0 gives back.
quantize_rounded() {
	# shellcheck disable=SC2086
	"$nuq" quantize "$bf" -o "$tmp/bfr.nuq" -q --calib-dir "$tmp/photos" $norm \
		>"$tmp/qr" 2>"$tmp/qr.err" || { cat "$tmp/qr.err"; return 1; }
	grep -q "input moments of 37 layers over [23] calibration inputs" "$tmp/qr.err" || return 1
	"$nuq" quantize "$bf" -o "$tmp/bfn.nuq" -q >/dev/null 2>"$tmp/qn.err" || return 1
	grep -q "rounding each weight to its nearest level; --calib-dir DIR" "$tmp/qn.err" || return 1
	! cmp -s "$tmp/bfr.nuq" "$tmp/bfn.nuq" || { echo "rounded = nearest?"; return 1; }
	# shellcheck disable=SC2086
	NUQ_GPTQ=0 "$nuq" quantize "$bf" -o "$tmp/bf0.nuq" -q --calib-dir "$tmp/photos" $norm \
		>/dev/null 2>&1 || return 1
	cmp "$tmp/bf0.nuq" "$tmp/bfn.nuq" || return 1
	mkdir -p "$tmp/sr" "$tmp/sm"
	# shellcheck disable=SC2086
	"$nuq" run "$bf" --nuq "$tmp/bfr.nuq" -i "$photo" $norm --calib-dir "$tmp/photos" --cpu \
		--no-fp32 --save "$tmp/sr" >/dev/null || return 1
	# shellcheck disable=SC2086
	"$nuq" run "$bf" -i "$photo" $norm --calib-dir "$tmp/photos" --cpu --no-fp32 \
		--save "$tmp/sm" >/dev/null || return 1
	for f in "$tmp/sm"/*.npy; do
		cmp "$f" "$tmp/sr/$(basename "$f")" || return 1
	done
	[ -n "$(ls "$tmp/sm")" ]
}
check "nuq quantize --calib-dir: weights rounded on photos, as nuq run rounds them" \
	quantize_rounded

profile() {
	# shellcheck disable=SC2086
	"$nuq" run "$bf" -i "$photo" $norm --cpu --repeat 3 --profile >"$tmp/p" || return 1
	grep -q 'median of the runs' "$tmp/p" || return 1
	grep -q '^profile of the fp32 runs' "$tmp/p" || return 1
	grep -q '^profile of the quantized runs' "$tmp/p" || return 1
	[ "$(grep -c '^runs (wall) *3 ' "$tmp/p")" -eq 2 ] && grep -q '^Conv (qexec) ' "$tmp/p"
}
check "--repeat and --profile: the median, and a profile of every run, fp32 and quantized" profile

layer_errors() {
	# shellcheck disable=SC2086
	"$nuq" run "$bf" -i "$photo" $norm --cpu --per-layer-error >"$tmp/le" || return 1
	jobs=$(sed -n 's/^layers: \([0-9]*\) as integer jobs.*/\1/p' "$tmp/le")
	fp32=$(sed -n 's/^layers: .*, \([0-9]*\) in fp32 with.*/\1/p' "$tmp/le")
	rows=$(grep -cE '^ +[0-9]+  .* (job|fp32|fp32 head) +-?[0-9.]+$' "$tmp/le")
	echo "jobs $jobs fp32 $fp32 rows $rows"
	[ -n "$jobs" ] && [ -n "$fp32" ] && [ "$rows" -eq $((jobs + fp32)) ]
}
check "--per-layer-error: one SQNR row for every quantized layer" layer_errors

asd_method() {
	# shellcheck disable=SC2086
	"$nuq" run "$bf" -i "$photo" $norm --cpu -m asd >"$tmp/asd" || return 1
	grep -q 'weights asd (signed power-of-two digits), a scale per channel' "$tmp/asd" &&
		[ "$(grep -c 'SQNR' "$tmp/asd")" -eq 4 ]
}
check "-m asd: shift-and-add weights, a scale per channel, every output compared" asd_method

ocr_help() {
	"$nuq" ocr --help | grep -q '^usage: nuq ocr PAGE.png' || return 1
	"$nuq" run page.png --help 2>&1 | grep -q "nuq ocr PAGE.png' now"
}
check "the OCR pipeline is nuq ocr; nuq run PAGE.png still reaches it" ocr_help

fails_with "no --input: says which input" "give it with --input FILE" "$nuq" run "$bf"
fails_with "an input name the model lacks" "has no input 'nose'" "$nuq" run "$bf" -i nose=x.jpg
fails_with "a file that is no picture or .npy" "neither JPEG nor PNG (not a .npy" \
	"$nuq" run "$bf" -i "$0"
fails_with "a size the model does not take" "does not fit" \
	"$nuq" run "$bf" -i "$photo" --size 100x100
fails_with "two inputs for a one-input model" "has only 1 input" \
	"$nuq" run "$bf" -i "$photo" -i "$photo"
npy_wrap "$tmp/in.f32" "1, 128, 128, 3" "$tmp/bad.npy" '>f4'
fails_with "a big-endian .npy" "'>f4' is not one nuq reads" "$nuq" run "$bf" -i "$tmp/bad.npy"
fails_with "--save to a missing folder" "not a directory" \
	"$nuq" run "$bf" -i "$photo" --save "$tmp/nope"
fails_with "nuq quantize --calib-dir names a missing folder" "nope" \
	"$nuq" quantize "$bf" -o "$tmp/x.nuq" --calib-dir "$tmp/nope"
fails_with "nuq quantize --ocr takes no model and no --calib-dir" "usage: nuq quantize" \
	"$nuq" quantize --ocr -o "$tmp/q" --calib-dir "$tmp/photos"
fails_with "a bad --mean" "one number or one per channel" \
	"$nuq" run "$bf" -i "$photo" --mean 1,2

topk=/usr/share/libonnx-testdata/data/node/test_top_k/model.onnx
if [ -f "$topk" ]; then
	fails_with "nuq quantize warns about a model nuq cannot run, naming every missing op" \
		"warning: nuq cannot run .*every op the model needs that nuq lacks: TopK (1 node)" \
		"$nuq" quantize "$topk" -o "$tmp/topk.nuq"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
