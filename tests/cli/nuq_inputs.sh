#!/bin/sh
# nuq on a model with two inputs (tests/cli/two_inputs_model.c), as a
# user would calibrate it: a --calib-dir whose subdirectories are the
# runs (one file per input, named after it), --calib-input runs of
# comma-separated files, the run's own inputs by default; nuq quantize
# rounding on those runs, nuq calibrate saving their ranges for nuq run;
# clear errors for a run that lacks an input.  Prints TAP.
#
#   nuq_inputs.sh NUQ TWO_INPUTS_MODEL
set -u
nuq=$1 mkmodel=$2
data=/usr/share/doc/opencv-doc/examples/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

if [ ! -f "$data/baboon.jpg" ]; then
	echo "1..0 # SKIP no opencv-doc photos: run make deps"
	exit 0
fi
model=$tmp/two.onnx
"$mkmodel" "$model" || exit 1
# four runs: subdirectory k holds left.jpg and right.jpg
k=0
for pair in baboon.jpg:messi5.jpg fruits.jpg:building.jpg aloeL.jpg:aero1.jpg home.jpg:board.jpg; do
	k=$((k + 1))
	mkdir -p "$tmp/calib/run$k"
	cp "$data/${pair%:*}" "$tmp/calib/run$k/left.jpg"
	cp "$data/${pair#*:}" "$tmp/calib/run$k/right.jpg"
done
inputs="-i left=$data/stuff.jpg -i right=$data/leuvenA.jpg"

# sqnr_at_least FILE DB: the output's SQNR line, at least DB
sqnr_at_least() {
	awk -v min="$2" '$1 == "out" && $3 == "SQNR" { found = 1; if ($4 + 0 < min) bad = 1 }
		END { exit !(found && !bad) }' "$1"
}

calib_dir() {
	# shellcheck disable=SC2086
	"$nuq" run "$model" $inputs --cpu --calib-dir "$tmp/calib" >"$tmp/run" 2>&1 || return 1
	cat "$tmp/run"
	grep -q "input 'right' 1x3x32x32" "$tmp/run" &&
		grep -q "rounded on 4 inputs" "$tmp/run" &&
		grep -q "activations percentile-calibrated on 4 inputs" "$tmp/run" &&
		grep -q "3 as integer jobs" "$tmp/run" &&
		sqnr_at_least "$tmp/run" 20
}
check "nuq run: --calib-dir subdirectories are the runs of both inputs (>= 20 dB)" calib_dir

own_inputs() {
	# shellcheck disable=SC2086
	"$nuq" run "$model" $inputs --cpu >"$tmp/own" 2>&1 || return 1
	grep -q "calibrated on the input itself" "$tmp/own" && sqnr_at_least "$tmp/own" 20
}
check "nuq run: by default both inputs of the run calibrate it" own_inputs

calib_input() {
	# shellcheck disable=SC2086
	"$nuq" run "$model" $inputs --cpu \
		--calib-input "left=$data/baboon.jpg,right=$data/messi5.jpg" \
		--calib-input "$data/fruits.jpg,$data/building.jpg" >"$tmp/ci" 2>&1 || return 1
	grep -q "activations percentile-calibrated on 2 inputs (--calib-input)" "$tmp/ci" &&
		sqnr_at_least "$tmp/ci" 20
}
check "nuq run: each --calib-input is one run's comma-separated files" calib_input

quantize_calibrate() {
	"$nuq" quantize "$model" -o "$tmp/two.nuq" --calib-dir "$tmp/calib" >"$tmp/q" 2>&1 ||
		return 1
	grep -q "input moments of 4 layers over 4 calibration inputs" "$tmp/q" || return 1
	"$nuq" calibrate "$model" --nuq "$tmp/two.nuq" --images "$tmp/calib" >"$tmp/c" 2>&1 ||
		return 1
	grep -q "wrote $tmp/two.calib (percentile, 4 inputs from $tmp/calib" "$tmp/c" || return 1
	# shellcheck disable=SC2086
	"$nuq" run "$model" --nuq "$tmp/two.nuq" $inputs --cpu >"$tmp/r" 2>&1 || return 1
	grep -q "activations: ranges from $tmp/two.calib" "$tmp/r" && sqnr_at_least "$tmp/r" 20
}
check "nuq quantize rounds and nuq calibrate calibrates on the runs; nuq run reads both" \
	quantize_calibrate

mkdir -p "$tmp/flat" "$tmp/short/run1"
cp "$data/baboon.jpg" "$tmp/flat/"
cp "$data/baboon.jpg" "$tmp/short/run1/left.jpg"
# shellcheck disable=SC2086
fails_with "a --calib-dir without run subdirectories says how to lay it out" \
	"each calibration run is a subdirectory holding one file per input" \
	"$nuq" run "$model" $inputs --cpu --calib-dir "$tmp/flat"
# shellcheck disable=SC2086
fails_with "a run without one of the inputs names it" "run1: no right.npy, .png or .jpg" \
	"$nuq" run "$model" $inputs --cpu --calib-dir "$tmp/short"
# shellcheck disable=SC2086
fails_with "a --calib-input run missing an input names it" "input 'right' has no --input" \
	"$nuq" run "$model" $inputs --cpu --calib-input "left=$data/baboon.jpg"

echo "1..$n"
[ "$failed" -eq 0 ]
