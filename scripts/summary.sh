#!/bin/sh
# Sum the TAP results of every suite that ran and print the closing line
# "N passed, N failed[, N skipped]".  Exits 1 when anything failed or
# nothing ran at all.
set -u
results=$1
passed=0 failed=0 skipped=0
echo
echo "== summary =="
for f in "$results"/*.tap; do
	[ -f "$f" ] || continue
	p=$(grep -E '^ok ' "$f" | grep -vc '# SKIP')
	s=$(grep -E '^ok .*# SKIP' "$f" | wc -l)
	x=$(grep -cE '^not ok ' "$f")
	printf '%-48s %4d passed %4d failed %4d skipped\n' "$(basename "$f" .tap)" "$p" "$x" "$s"
	passed=$((passed + p)) failed=$((failed + x)) skipped=$((skipped + s))
done
if [ $((passed + failed)) -eq 0 ]; then
	echo "no test ran"
	failed=1
fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line" >"$results/summary.txt"
echo "$line"
[ "$failed" -eq 0 ]
