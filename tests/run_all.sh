#!/usr/bin/env bash
# run_all.sh - every suite of `make test`, in order, then one closing line
# adding them up: "all: N passed, N failed".  Each suite still runs when an
# earlier one failed, so one run shows everything that is wrong.
#
# The fuzz targets run beside the PostgreSQL pass: a libFuzzer target keeps
# one core busy, while the PostgreSQL suites mostly wait on servers and
# clients, so together they take little more than the longer one (the
# normal run should stay under 20 minutes on 2 cores).  The fuzzers' output
# is shown after the PostgreSQL pass's, whole.
set -u
make_cmd=${MAKE:-make}
passed=0 failed=0 broken=""

# tally TARGET RC LOG: add a finished target's "N passed, N failed" lines.
tally() {
	while read -r p f; do
		passed=$((passed + p))
		failed=$((failed + f))
	done < <(sed -n 's/^[a-z0-9_-]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$3")
	if [ "$2" -ne 0 ]; then
		broken="$broken $1"
	fi
}

run() { # TARGET: in the foreground, its output as it comes
	echo "=== make $1"
	local log
	log=$(mktemp)
	"$make_cmd" --no-print-directory "$1" 2>&1 | tee "$log"
	tally "$1" "${PIPESTATUS[0]}" "$log"
	rm -f "$log"
}

for target in layers unit integration; do
	run "$target"
done

fuzz_log=$(mktemp)
"$make_cmd" --no-print-directory fuzz >"$fuzz_log" 2>&1 &
fuzz_pid=$!
run postgres
wait "$fuzz_pid"
fuzz_rc=$?
echo "=== make fuzz (ran beside the PostgreSQL pass)"
cat "$fuzz_log"
tally fuzz "$fuzz_rc" "$fuzz_log"
rm -f "$fuzz_log"

run sanitize

[ -n "$broken" ] && echo "failing suites:$broken"
echo "all: $passed passed, $failed failed"
[ -z "$broken" ] && [ "$failed" -eq 0 ]
