#!/usr/bin/env bash
# run_all.sh - every suite of `make test`, in order, then one closing line
# adding them up: "all: N passed, N failed".  Each suite still runs when an
# earlier one failed, so one run shows everything that is wrong.
set -u
make_cmd=${MAKE:-make}
passed=0 failed=0 broken=""
for target in layers unit integration postgres sanitize fuzz; do
	echo "=== make $target"
	log=$(mktemp)
	"$make_cmd" --no-print-directory "$target" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# every "N passed, N failed" line a suite printed as its own total
	while read -r p f; do
		passed=$((passed + p))
		failed=$((failed + f))
	done < <(sed -n 's/^[a-z0-9-]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$log")
	rm -f "$log"
	if [ "$rc" -ne 0 ]; then
		broken="$broken $target"
	fi
done
[ -n "$broken" ] && echo "failing suites:$broken"
echo "all: $passed passed, $failed failed"
[ -z "$broken" ] && [ "$failed" -eq 0 ]
