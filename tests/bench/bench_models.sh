#!/bin/sh
# make bench-models: whole models on real inputs, onnxruntime-node fp32
# (its default graph optimisations) against nuq's fp32 executor and nuq
# quantized (weights from `nuq quantize` with its defaults, activations
# calibrated on other real inputs, integer jobs on libnuq's CPU core), at
# each thread count.  Every measurement is its own process (peak RSS is its
# own): 2 warm-up runs, then RUNS timed ones; median and [q1-q3] in ms.
# The thread count goes to NUQ_THREADS (the CPU path shares a job's output
# rows among threads, libnuq/src/conv/conv_parallel.c) and to
# OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, i.e. to the fp32 Conv/MatMul's
# sgemm when libnuq is linked with OpenBLAS (libnuq/src/graph/sgemm.c).
# Writes RESULTS/bench-models.txt, .dat, .png and per-op profiles of nuq in
# RESULTS/bench-models/MODEL.{fp32,q}.tN.txt.
#
#   bench_models.sh BENCH NUQ GRAPH_REF MODEL_INPUT ORT_NODE_MODULES OCR_MODELS MODELS RESULTS
#
# BENCH_MODELS_RUNS (default 10), BENCH_MODELS_THREADS ("1 2") and
# BENCH_MODELS_ONLY (a name pattern, e.g. 'BlazeFace*') narrow it down.
set -eu
bench=$1 nuq=$2 ref=$3 mkin=$4 ort=$5 ocr=$6 models=$7 out=$8
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${BENCH_MODELS_RUNS:-10}
threads=${BENCH_MODELS_THREADS:-1 2}
only=${BENCH_MODELS_ONLY:-*}
data=/usr/share/doc/opencv-doc/examples/data
html=/usr/share/doc/opencv-doc/opencv4/html
page=$data/imageTextN.png
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/bench-models"
txt=$out/bench-models.txt dat=$out/bench-models.dat
export NODE_PATH="$ort"

# ocr NAME det|rec|cls|cls180 PNG LINE: an OCR model's input (tests/ort/graph_ref.c)
ocr() {
	"$ref" input "$2" "$3" "$4" "$work/$1.f32" >"$work/$1.shape"
}
# img NAME [model_input options] IMAGE SIZE SCALE OFFSET: a photo, NHWC
img() {
	n=$1
	shift
	opts=
	while [ $# -gt 4 ]; do opts="$opts $1"; shift; done
	# shellcheck disable=SC2086
	"$mkin" $opts "$1" "$2" "$2" nhwc "$3" "$4" "$work/$n.f32" >"$work/$n.shape"
}

bf="0.00784313725 -1"
# shellcheck disable=SC2086
{
	ocr det det "$page" 0
	ocr det_c1 det "$data/imageTextR.png" 0
	ocr det_c2 det "$data/sudoku.png" 0
	ocr rec rec "$page" 1
	ocr rec_c1 rec "$page" 0
	ocr rec_c2 rec "$page" 2
	ocr cls cls "$page" 2
	ocr cls_c1 cls "$page" 0
	ocr cls_c2 cls180 "$page" 3
	img bf128 "$html/facereg.jpg" 128 $bf
	img bf128_c1 --crop 64,0,342,342 "$data/messi5.jpg" 128 $bf
	img bf128_c2 "$data/baboon.jpg" 128 $bf
	img bf256 --crop 64,0,342,342 "$data/messi5.jpg" 256 $bf
	img bf256_c1 "$html/facereg.jpg" 256 $bf
	img bf256_c2 "$data/baboon.jpg" 256 $bf
	for s in 320 512; do
		img ml$s --alpha 1 "$data/building.jpg" $s 1 0
		img ml${s}_c1 --alpha 1 "$data/home.jpg" $s 1 0
		img ml${s}_c2 --alpha 1 "$data/left01.jpg" $s 1 0
	done
}

# field NAME LINE: the value after NAME in a "median X min X ..." line
field() {
	echo "$2" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}
# cell LINE: "median [q1-q3]"
cell() {
	printf '%s [%s-%s]' "$(field median "$1")" "$(field q1 "$1")" "$(field q3 "$1")"
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
mb() {
	awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'
}

# measure NAME MODEL INPUT CALIB...: quantize, calibrate, then time each way
measure() {
	name=$1 model=$2 in=$3
	shift 3
	# shellcheck disable=SC2254
	case $name in $only) ;; *) return 0 ;; esac
	base=$work/$name
	"$nuq" quantize "$model" -o "$base.nuq" -q >"$base.log" 2>&1 || { cat "$base.log"; exit 1; }
	cal=
	for c in "$@"; do cal="$cal $work/$c.f32 $(cat "$work/$c.shape")"; done
	# shellcheck disable=SC2086
	"$bench" calib "$model" "$base.nuq" "$base.calib" $cal
	shape=$(cat "$work/$in.shape")
	for t in $threads; do
		o=$(node "$top/tests/bench/ort_bench.js" "$model" "$work/$in.f32" "$shape" "$t" \
			"$runs")
		f=$(NUQ_THREADS=$t OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$bench" fp32 "$model" \
			"$work/$in.f32" "$shape" "$runs" "$out/bench-models/$name.fp32.t$t.txt")
		q=$(NUQ_THREADS=$t OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$bench" q "$model" \
			"$work/$in.f32" "$shape" "$runs" "$out/bench-models/$name.q.t$t.txt" \
			"$base.nuq" "$base.calib")
		om=$(field median "$o") fm=$(field median "$f") qm=$(field median "$q")
		printf '%-16s %2s %24s %24s %6sx %24s %6sx %5s %5s %5s\n' "$name" "$t" \
			"$(cell "$o")" "$(cell "$f")" "$(ratio "$fm" "$om")" "$(cell "$q")" \
			"$(ratio "$qm" "$om")" "$(mb "$(field rss "$o")")" \
			"$(mb "$(field rss "$f")")" "$(mb "$(field rss "$q")")" | tee -a "$txt"
		echo "$name/$t $om $fm $qm $(ratio "$fm" "$om") $(ratio "$qm" "$om")" >>"$dat"
	done
}

node_rss=$(node -e "require('onnxruntime-node'); console.log(process.resourceUsage().maxRSS)")
{
	echo "# make bench-models: $(date -u '+%F %H:%M UTC'), $(nproc) CPUs" \
		"($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load" \
		"$(cut -d' ' -f1-3 /proc/loadavg), $runs runs after 2 warm-ups"
	echo "# ms: median [q1-q3]; x: median / onnxruntime's; RSS: peak MB of the process" \
		"(node with onnxruntime-node alone: $(mb "$node_rss") MB)"
	echo "# N threads: NUQ_THREADS=N (the integer jobs' rows on the CPU path) and" \
		"OPENBLAS_NUM_THREADS=N (the fp32 Conv/MatMul's sgemm); the rest of nuq is one thread"
	printf '%-16s %2s %24s %24s %7s %24s %7s %5s %5s %5s\n' model thr "onnxruntime ms" \
		"nuq fp32 ms" "" "nuq quantized ms" "" ort fp32 q
} | tee "$txt"
echo "# model/threads ort_ms fp32_ms q_ms fp32_x q_x" >"$dat"

measure PP-OCRv4-det "$ocr/ch_PP-OCRv4_det_infer.onnx" det det_c1 det_c2
measure PP-OCRv4-rec "$ocr/ch_PP-OCRv4_rec_infer.onnx" rec rec_c1 rec_c2
measure PP-OCR-cls "$ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx" cls cls_c1 cls_c2
measure BlazeFace-128 "$models/blazeface/face_detection_front_128x128_barracuda.onnx" \
	bf128 bf128_c1 bf128_c2
measure BlazeFace-256 "$models/blazeface/face_detection_back_256x256_barracuda.onnx" \
	bf256 bf256_c1 bf256_c2
measure M-LSD-320-tiny "$models/mlsd/mlsd_320x320_tiny.onnx" ml320 ml320_c1 ml320_c2
measure M-LSD-320-large "$models/mlsd/mlsd_320x320_large.onnx" ml320 ml320_c1 ml320_c2
# Optional (about 6 s a run in fp32): BENCH_MODELS_ONLY='M-LSD-512*'.
if [ "$only" != "*" ]; then
	measure M-LSD-512-tiny "$models/mlsd/mlsd_512x512_tiny.onnx" ml512 ml512_c1 ml512_c2
	measure M-LSD-512-large "$models/mlsd/mlsd_512x512_large.onnx" ml512 ml512_c1 ml512_c2
fi

"$top/tests/bench/bench_models_plot.sh" "$dat" "$out/bench-models.png"
echo "bench-models: $txt, $out/bench-models.png, profiles in $out/bench-models/"
