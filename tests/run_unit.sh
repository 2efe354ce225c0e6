#!/bin/sh
# run_unit.sh BIN... - run each cmocka test binary; the last line totals them
# in the "N passed, N failed" form CI reads.
passed=0 failed=0 status=0
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
	fi
done
echo "${UNIT_LABEL:-unit}: $passed passed, $failed failed"
exit $status
