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

budget() {
	"$nuq" quantize "$rec" -o "$tmp/mp.nuq" --budget-bits 3.5 -q 2>/dev/null || return 1
	bits=$("$nuq" inspect "$tmp/mp.nuq" | sed -n 's/.*(\([0-9.]*\) bits per weight).*/\1/p')
	# 3.5 index bits; per-layer codebooks and headers add a little.
	awk -v b="$bits" 'BEGIN { exit !(b <= 3.6 && b > 3.0) }'
}
check "mixed precision averages --budget-bits 3.5 index bits" budget

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
