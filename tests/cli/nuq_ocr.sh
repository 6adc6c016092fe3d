#!/bin/sh
# End-to-end tests of the graph executor and the OCR pipeline on real
# data: the fp32 executor against onnxruntime (test-only reference from
# npm) on a real scanned page and its lines, nuq ocr on that page in fp32
# and 4-bit, nuq eval's data (calibration and evaluation apart) and its
# accuracy targets, and clear failures.  Prints TAP.
#
#   nuq_ocr.sh NUQ_BINARY GRAPH_REF_BINARY ORT_NODE_MODULES
set -u
nuq=$1 ref=$2 ort=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
models=${NUQ_MODELS_DIR:?NUQ_MODELS_DIR is not set}
page=/usr/share/doc/opencv-doc/examples/data/imageTextN.png
truth=$top/data/imageTextN.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TAP_VERBOSE=1
. "$(dirname "$0")/tap.sh"

# against_ort KIND LINE MODEL TOL: nuq's fp32 output vs onnxruntime's, on a real input
against_ort() {
	shape=$("$ref" input "$1" "$page" "$2" "$tmp/in.f32") || return 1
	NODE_PATH=$ort node "$top/tests/ort/ort_run.js" "$models/$3.onnx" "$tmp/in.f32" "$shape" \
		"$tmp/ort.f32" >/dev/null || return 1
	"$ref" run "$models/$3.onnx" "$tmp/in.f32" "$shape" "$tmp/nuq.f32" || return 1
	echo "input $shape"
	"$ref" cmp "$tmp/ort.f32" "$tmp/nuq.f32" "$4"
}
# Probabilities; the recogniser's 1280-step line sums in a different order
# over more terms, so it gets 1e-3.
check "fp32 detector matches onnxruntime on the scanned page (1e-4)" \
	against_ort det 0 ch_PP-OCRv4_det_infer 1e-4
check "fp32 recogniser matches onnxruntime on a scanned line (1e-3)" \
	against_ort rec 1 ch_PP-OCRv4_rec_infer 1e-3
check "fp32 classifier matches onnxruntime on a scanned line (1e-5)" \
	against_ort cls 2 ch_ppocr_mobile_v2.0_cls_infer 1e-5
check "fp32 classifier matches onnxruntime on an upside-down line (1e-5)" \
	against_ort cls180 3 ch_ppocr_mobile_v2.0_cls_infer 1e-5

# char_accuracy FILE WHICH: character accuracy of nuq ocr's "fp32 :" or "nuq  :" lines
char_accuracy() {
	awk -v which="$2" -v truth="$truth" '
	function lev(a, b,    i, j, la, lb, d, c, x, y) {
		la = length(a); lb = length(b)
		for (j = 0; j <= lb; j++) d[0, j] = j
		for (i = 1; i <= la; i++) {
			d[i, 0] = i
			for (j = 1; j <= lb; j++) {
				c = substr(a, i, 1) != substr(b, j, 1)
				x = d[i - 1, j] + 1; y = d[i, j - 1] + 1
				if (d[i - 1, j - 1] + c < x) x = d[i - 1, j - 1] + c
				d[i, j] = x < y ? x : y
			}
		}
		return d[la, lb]
	}
	BEGIN { while ((getline l < truth) > 0) t[++nt] = l }
	{
		if (which == "fp32" && $0 ~ /^ *[0-9]+ fp32 : /) { sub(/^ *[0-9]+ fp32 : /, ""); k++ }
		else if (which == "nuq" && $0 ~ /^    nuq  : /) { sub(/^    nuq  : /, ""); k++ }
		else next
		sub(/  \((same|was upside down)\)$/, "")
		if (k <= nt) { e += lev(t[k], $0); c += length(t[k]) }
	}
	END { if (k != nt) { print "lines: " k " read, " nt " expected"; exit 1 }
	      printf "%s character accuracy %.2f%%\n", which, 100 * (1 - e / c) }' "$1"
}

run_fp32() {
	"$nuq" ocr "$page" --fp32 >"$tmp/run32" || return 1
	char_accuracy "$tmp/run32" fp32 | tee "$tmp/acc"
	awk '{ exit !($4 + 0 >= 99.0) }' FS='[ %]+' "$tmp/acc"
}
check "nuq ocr --fp32 reads the scanned page (>= 99% characters)" run_fp32

run_4bit() {
	"$nuq" ocr "$page" --cpu >"$tmp/run4" 2>/dev/null || return 1
	grep -E 'jobs: [0-9]+ on libnuq' "$tmp/run4" || return 1
	char_accuracy "$tmp/run4" nuq | tee "$tmp/acc"
	awk '{ exit !($4 + 0 >= 98.0) }' FS='[ %]+' "$tmp/acc"
}
check "nuq ocr --cpu: 4-bit weights, 8-bit activations, >= 98% characters" run_4bit

# nuq quantize --ocr writes what nuq ocr quantizes in memory: the three
# .nuq files (the detector and recogniser at most 4.5 bits per weight, all
# included) with their .calib, which nuq ocr --nuq reads the page with.
quantize_ocr() {
	"$nuq" quantize --ocr -o "$tmp/q" >"$tmp/qo" 2>"$tmp/qo.err" ||
		{ cat "$tmp/qo.err"; return 1; }
	cat "$tmp/qo"
	for m in ch_PP-OCRv4_det_infer ch_ppocr_mobile_v2.0_cls_infer ch_PP-OCRv4_rec_infer; do
		[ -s "$tmp/q/$m.nuq" ] && [ -s "$tmp/q/$m.calib" ] || { echo "no $m"; return 1; }
	done
	awk '/_(det|rec)_infer.nuq:/ { n++; if ($5 + 0 > 4.5) { print "over 4.5: " $0; bad = 1 } }
	     END { exit bad || n != 2 }' "$tmp/qo" || return 1
	"$nuq" ocr "$page" --nuq "$tmp/q" --cpu >"$tmp/runq" 2>/dev/null || return 1
	grep -q "weights from $tmp/q/\*.nuq" "$tmp/runq" || return 1
	char_accuracy "$tmp/runq" nuq | tee "$tmp/acc"
	awk '{ exit !($4 + 0 >= 98.0) }' FS='[ %]+' "$tmp/acc"
}
check "nuq quantize --ocr: the .nuq and .calib files nuq ocr --nuq reads the page with" \
	quantize_ocr

# The data nuq eval scores on: calibration and evaluation lines never share
# a text (2000 calibration lines against the full evaluation set, for two
# seeds), evaluation lines are distinct, every character is one the
# recogniser's dictionary has, the set is a pure function of the seed, and
# --quick scores the first lines of the same set.
eval_data() {
	for seed in 0xe7a1 7; do
		"$nuq" eval --list-lines --seed $seed --calib-lines 2000 >"$tmp/lines.$seed" || return 1
		awk -F'\t' -v keys="$models/ppocr_keys_v1.txt" -v seed=$seed '
			BEGIN { while ((getline k < keys) > 0) dict[k] = 1; dict[" "] = 1 }
			$1 == "calib" { calib[$2] = 1; nc++ }
			$1 == "eval" { ne++; if ($2 in evals) dup++; evals[$2] = 1; chars += length($2) }
			{
				for (i = 1; i <= length($2); i++)
					if (!(substr($2, i, 1) in dict)) {
						print "not in the dictionary: \"" substr($2, i, 1) "\" in " $2
						bad++
					}
			}
			END {
				for (t in evals) if (t in calib) { print "in both sets: " t; both++ }
				printf "seed %s: %d calibration lines, %d evaluation lines (%d characters), " \
					"%d in both, %d repeated\n", seed, nc, ne, chars, both, dup
				exit (both || dup || bad || nc != 2000 || ne < 300)
			}' "$tmp/lines.$seed" || return 1
	done
	"$nuq" eval --list-lines --calib-lines 2000 | cmp -s - "$tmp/lines.0xe7a1" ||
		{ echo "two listings of the same seed differ"; return 1; }
	cmp -s "$tmp/lines.0xe7a1" "$tmp/lines.7" && { echo "the seed changes nothing"; return 1; }
	"$nuq" eval --list-lines --quick | grep '^eval' >"$tmp/quick" || return 1
	grep '^eval' "$tmp/lines.0xe7a1" | head -n "$(wc -l <"$tmp/quick")" | cmp -s - "$tmp/quick" ||
		{ echo "--quick does not score the first lines of the full set"; return 1; }
}
check "nuq eval: calibration and evaluation lines are disjoint, distinct, in the dictionary, deterministic" \
	eval_data

# Accuracy measured by nuq eval on rendered and scanned lines (--quick: the
# first lines of the full set), with their intervals.  These bounds guard
# what the default (layout per layer, weights rounded on the calibration
# lines) reaches today with a margin (on the quick subset knq 4 -0.14
# points, the classifier -2.1, the best 3-bit method -1.72; uniform
# min-max 4 makes 2.5 times knq 4's character errors, nearest rounding
# made over 3 times); issue 15's targets (4 bits within 0.5 points, the
# classifier without loss, 3 bits within 2) are printed when missed.
eval_targets() {
	"$nuq" eval --quick -o "$tmp/eval" >/dev/null 2>"$tmp/eval.err" ||
		{ cat "$tmp/eval.err"; return 1; }
	cat "$tmp/eval/eval.md"
	[ -s "$tmp/eval/eval.png" ] || { echo "no eval.png"; return 1; }
	awk -F'|' '
		{ for (i = 2; i <= NF; i++) gsub(/^ +| +$/, "", $i) }
		# "98.90 [98.61, 99.16]": estimate, low, high
		function ci(s, out) {
			gsub(/[][,]/, " ", s)
			return split(s, out, " ") == 3 && out[2] + 0 <= out[1] + 0 && out[1] + 0 <= out[3] + 0
		}
		$2 ~ /^(fp32|knq|kde|opt|uniform)/ {
			if (!ci($6, r) || !ci($7, d) || !ci($10, c) || !ci($11, dc)) {
				print "bad interval in: " $0; bad = 1
			}
			if ($3 + 0 <= 0) { print "no bits per weight in: " $0; bad = 1 }
		}
		$2 == "fp32" { f = $6; fc = $10; if ($7 != "+0.00 [+0.00, +0.00]") { print "fp32 vs fp32: " $7; bad = 1 } }
		$2 == "knq 4" { k4 = $6; kc = $10; k4d = $7 }
		$2 == "knq 3" { k3 = $6 }
		$2 == "opt 3" { o3 = $6 }
		$2 == "uniform min-max 4" { u4 = $6 }
		END {
			b3 = k3 > o3 ? k3 : o3
			printf "fp32 %.2f, knq 4 %.2f (vs fp32 %s), knq 3 %.2f, opt 3 %.2f, uniform 4 %.2f; " \
				"cls fp32 %.1f knq 4 %.1f\n", f, k4, k4d, k3, o3, u4, fc, kc
			if (k4 < f - 1.5) { print "knq 4 bits loses more than 1.5 points"; bad = 1 }
			if (b3 < f - 5) { print "the best 3-bit method loses more than 5 points"; bad = 1 }
			if (kc < fc - 10) { print "the classifier loses more than 10 points at 4 bits"; bad = 1 }
			if (k4 < f - 0.5) print "# issue 15 target not met: knq 4 bits within 0.5 points"
			if (b3 < f - 2) print "# issue 15 target not met: 3 bits within 2 points"
			if (kc < fc) print "# issue 15 target not met: the classifier without loss at 4 bits"
			# Clearly ahead: uniform makes at least twice the character errors.
			if (100 - u4 < 2 * (100 - k4)) {
				print "knq is not clearly ahead of uniform min-max"; bad = 1
			}
			exit bad
		}' "$tmp/eval/eval.md"
}
check "nuq eval: intervals, 4 bits within 1.5 points of fp32, classifier within 10, 3 bits within 5, knq well ahead of uniform" eval_targets

fails_with "nuq ocr names a missing page" "nope.png" "$nuq" ocr "$tmp/nope.png"
printf 'not a png' >"$tmp/bad.png"
fails_with "nuq ocr rejects a file that is not a PNG" "not a readable PNG" "$nuq" ocr "$tmp/bad.png"
mkdir -p "$tmp/models"
head -c 1000 "$models/ch_PP-OCRv4_det_infer.onnx" >"$tmp/models/ch_PP-OCRv4_det_infer.onnx"
fails_with "nuq ocr names a truncated model" "ch_PP-OCRv4_det_infer.onnx" \
	"$nuq" ocr "$page" --models "$tmp/models"
fails_with "nuq ocr names a missing .nuq file" "ch_PP-OCRv4_det_infer.nuq" \
	"$nuq" ocr "$page" --nuq "$tmp/models"
fails_with "nuq eval refuses --lines 0" "lines" "$nuq" eval --lines 0
fails_with "nuq eval refuses a seed that is not a number" "seed" "$nuq" eval --seed 12x

echo "1..$n"
[ "$failed" -eq 0 ]
