#!/bin/sh
# run_unit.sh BIN... - run each cmocka test binary; the last line totals them
# in the "N passed, N failed" form CI reads.  A program that fails without a
# failed test of its own (a sanitizer's report at exit, a crash) counts as one
# failure, and is named again just before the closing line with the end of
# its output, since CI may show only the last lines of a long run.
passed=0 failed=0 status=0 blame=""
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	# (a program may run several groups: each ends with its own counts)
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {if (NR) print s}')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {if (NR) print s}')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ]; then
		status=1
		[ -z "$f" ] && failed=$((failed + 1))
		blame="$blame
# failing: $(basename "$t") (exit $rc); it ended with:
$(printf '%s\n' "$out" | grep -E '^\[  FAILED  \]|ERROR|SUMMARY|Sanitizer|runtime error' | tail -n 8 | sed 's/^/#   /')
$(printf '%s\n' "$out" | tail -n 4 | sed 's/^/#   /')"
	fi
done
[ -n "$blame" ] && printf '%s\n' "$blame"
echo "${UNIT_LABEL:-unit}: $passed passed, $failed failed"
exit $status
