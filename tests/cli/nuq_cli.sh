#!/bin/sh
# End-to-end tests of the nuq CLI on the real PaddleOCR classifier: quantize,
# inspect, mixed precision, SVD, and clear failures on bad input.  Prints TAP.
#
#   nuq_cli.sh NUQ_BINARY
set -u
nuq=$1
models=${NUQ_MODELS_DIR:?NUQ_MODELS_DIR is not set}
cls=$models/ch_ppocr_mobile_v2.0_cls_infer.onnx
rec=$models/ch_PP-OCRv4_rec_infer.onnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

quantize_table() {	# the table lists every layer and a compression of about 8x at 4 bits
	"$nuq" quantize "$cls" -o "$tmp/cls.nuq" --method knq --bits 4 --per-channel || return 1
	[ -s "$tmp/cls.nuq" ] || return 1
}
check "quantize the classifier (knq, 4 bits, per channel)" quantize_table

table_is_honest() {
	"$nuq" quantize "$cls" -o "$tmp/cls.nuq" --method kde --bits 4 >"$tmp/t" 2>/dev/null || return 1
	layers=$(grep -c ' kde ' "$tmp/t")
	[ "$layers" -ge 40 ] || return 1
	# bytes in the table add up to the file (plus its 32-byte header)
	sum=$(grep ' kde ' "$tmp/t" | awk '{ s += $NF } END { print s + 32 }')
	[ "$sum" -eq "$(stat -c %s "$tmp/cls.nuq")" ] || return 1
	grep -q 'smaller' "$tmp/t"
}
check "table bytes add up to the file size" table_is_honest

inspect_ok() {
	"$nuq" inspect "$tmp/cls.nuq" >"$tmp/i" || return 1
	grep -q 'all CRCs verified' "$tmp/i"
}
check "inspect verifies every CRC" inspect_ok

# "bits per weight, all included" is 8 x (file bytes + bytes kept in the
# ONNX file) / weights, and at most MAX.  quantize_size OUT MAX ARGS...
quantize_size() {
	out=$1 max=$2
	shift 2
	"$nuq" quantize "$@" -o "$out" -q >"$tmp/q" 2>/dev/null || return 1
	cat "$tmp/q"
	weights=$(sed -n 's/.* layers, \([0-9]*\) weights: .*/\1/p' "$tmp/q")
	file=$(sed -n 's/.*: .nuq file \([0-9]*\) bytes.*/\1/p' "$tmp/q")
	kept=$(sed -n 's/.*kept in the ONNX file \([0-9]*\) bytes.*/\1/p' "$tmp/q")
	bits=$(sed -n 's/^bits per weight, all included: \([0-9.]*\) .*/\1/p' "$tmp/q")
	[ "$file" -eq "$(stat -c %s "$out")" ] || { echo "file $file bytes, on disk $(stat -c %s "$out")"; return 1; }
	[ "$kept" -gt 0 ] || return 1
	awk -v w="$weights" -v f="$file" -v k="$kept" -v b="$bits" -v max="$max" 'BEGIN {
		want = 8 * (f + k) / w
		if (want - b > 0.0001 || b - want > 0.0001) { print "printed " b ", computed " want; exit 1 }
		if (b > max) { print b " bits per weight, more than " max; exit 1 }
	}'
}

budget() {
	quantize_size "$tmp/mp.nuq" 3.5 "$rec" --budget-bits 3.5
}
check "--budget-bits 3.5: at most 3.5 bits per weight, all included" budget

default_size() {	# the default at 4 bits: at most 4.5 bits per weight, all included
	quantize_size "$tmp/rec4.nuq" 4.5 "$rec" &&
		"$nuq" inspect "$tmp/rec4.nuq" | grep -q "nuq file version 5" &&
		quantize_size "$tmp/rec8.nuq" 8.42 "$rec" --bits 8
}
check "default layout: rec at 4 bits <= 4.5 and 8 bits <= 8.42 bits per weight, all included" default_size

# The classifier's BatchNormalization folded into its .nuq (version 3) and
# its other convs' biases stored there (version 5): the ONNX file keeps a
# tenth of what it kept; at 4 bits its channels' and layers' metadata still
# take more than the half bit (the budget becomes the smallest layouts plus
# the half bit, under 6), and --budget-bits 4.5 is a hard limit.
cls_size() {
	quantize_size "$tmp/cls45.nuq" 4.5 "$cls" --budget-bits 4.5 &&
		quantize_size "$tmp/cls4.nuq" 6.0 "$cls" &&
		"$nuq" inspect "$tmp/cls4.nuq" >"$tmp/ci" &&
		grep -q 'nuq file version 5' "$tmp/ci" &&
		[ "$(grep -c ' folded$' "$tmp/ci")" -ge 30 ] &&
		[ "$(grep -c ' bias$' "$tmp/ci")" -ge 15 ] &&
		kept=$(sed -n 's/.*kept in the ONNX file \([0-9]*\) bytes.*/\1/p' "$tmp/q") &&
		NUQ_FOLD_BN=0 "$nuq" quantize "$cls" -o "$tmp/cls4u.nuq" -q >"$tmp/qu" 2>/dev/null &&
		unfolded=$(sed -n 's/.*kept in the ONNX file \([0-9]*\) bytes.*/\1/p' "$tmp/qu") &&
		echo "# kept in the ONNX file: $kept bytes folded, $unfolded unfolded" &&
		[ $((kept * 10)) -lt "$unfolded" ] &&
		"$nuq" inspect "$tmp/cls4u.nuq" | grep -q 'nuq file version 2'
}
check "classifier: BatchNormalization folded, biases stored (v5), <= 6 bits per weight at 4 bits, --budget-bits 4.5 holds" cls_size

svd() {
	"$nuq" quantize "$rec" -o "$tmp/svd.nuq" --svd 0.95 >"$tmp/s" 2>/dev/null || return 1
	# some layer got a rank
	awk '$(NF-3) > 0 && $2 == "MatMul"' "$tmp/s" | grep -q .
}
check "--svd factors fully connected layers" svd

asd() {
	"$nuq" quantize "$cls" -o "$tmp/asd.nuq" --method asd -q 2>/dev/null &&
		"$nuq" inspect "$tmp/asd.nuq" | grep -q ' asd '
}
check "ASD weights round-trip through the file" asd

corrupt() {
	cp "$tmp/cls.nuq" "$tmp/bad.nuq"
	printf '\377' | dd of="$tmp/bad.nuq" bs=1 seek=200 conv=notrunc 2>/dev/null
	"$nuq" inspect "$tmp/bad.nuq"
}
fails_with "a flipped byte is reported with its section" "section [0-9]*.*CRC mismatch" corrupt

trunc() {
	head -c 1000 "$tmp/cls.nuq" >"$tmp/short.nuq"
	"$nuq" inspect "$tmp/short.nuq"
}
fails_with "a truncated file is reported" "truncated" trunc

help_methods() {	# every method --help names is one the parser accepts
	list=$("$nuq" quantize --help | sed -n '/--method M/,/(default knq)/p' |
		sed -e 's/.*--method M//' -e 's/(default knq)//' | tr -d ' \n' | tr , ' ')
	[ -n "$list" ] || return 1
	for m in $list; do
		out=$("$nuq" quantize /nonexistent.onnx -o "$tmp/m.nuq" --method "$m" 2>&1)
		case "$out" in *"unknown method"*) echo "# --help names '$m', which is refused"; return 1 ;; esac
	done
}
check "nuq quantize --help names only methods that exist" help_methods

notonnx() {
	head -c 5000 /bin/sh >"$tmp/x.onnx"
	"$nuq" quantize "$tmp/x.onnx" -o "$tmp/x.nuq"
}
fails_with "a file that is not ONNX is refused" "not an ONNX model" notonnx

noout() {
	"$nuq" quantize "$cls" -o "$tmp/x.nuq" --bits 9
}
fails_with "--bits 9 is refused" "bits must be 1 to 8" noout

nofile_left() {
	"$nuq" quantize "$tmp/x.onnx" -o "$tmp/never.nuq" 2>/dev/null
	[ ! -e "$tmp/never.nuq" ] && ! ls "$tmp"/never.nuq.tmp.* 2>/dev/null
}
check "a failed quantize leaves no output file" nofile_left

echo "1..$n"
[ "$failed" -eq 0 ]
