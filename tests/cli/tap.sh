# TAP helpers for the CLI test scripts (sourced; needs $tmp).
n=0 failed=0

check() {	# check DESCRIPTION COMMAND...: ok when COMMAND succeeds
	desc=$1
	shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok $n - $desc"
		[ -z "${TAP_VERBOSE:-}" ] || sed 's/^/    # /' "$tmp/out" | tail -n 3
	else
		echo "not ok $n - $desc"
		sed 's/^/    # /' "$tmp/out" | tail -n 20
		failed=$((failed + 1))
	fi
}

fails_with() {	# fails_with DESCRIPTION PATTERN COMMAND...: COMMAND fails and says PATTERN
	desc=$1 pat=$2
	shift 2
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		echo "not ok $n - $desc (succeeded)"
		failed=$((failed + 1))
	elif grep -q "$pat" "$tmp/out"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (no \"$pat\" in the error)"
		sed 's/^/    # /' "$tmp/out" | tail -n 5
		failed=$((failed + 1))
	fi
}
