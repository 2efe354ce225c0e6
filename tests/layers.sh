#!/usr/bin/env bash
# layers.sh OBJDIR - the house rules of the source tree, read from the
# compiled objects' symbols: which file calls which.
#
#   - no two files call each other (one of them should own the piece);
#   - calls go down the layers only: main -> cli -> web -> jobs | identity | mail ->
#     catalogue | media -> storage -> util (catalogue and media never call
#     each other; storage, where media bytes live, knows nothing above it).
#
# Last line: "layers: N passed, N failed".
set -u
obj=${1:?usage: layers.sh OBJDIR}
rank() {
	case $1 in
	main.c) echo 7 ;; cli) echo 6 ;; web) echo 5 ;; jobs | identity | mail) echo 4 ;;
	catalogue | media) echo 3 ;; storage) echo 2 ;; util) echo 1 ;; *) echo 0 ;;
	esac
}
declare -A def
# (an object whose source was moved or removed since it was built is not
# part of the program any more: it would be judged in its old place)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
objs=$(find "$obj/src" -name '*.o' | sort | while read -r f; do
	src=${f#"$obj"/}
	[ -f "$root/${src%.o}.c" ] && echo "$f"
done)
[ -n "$objs" ] || { echo "layers: no objects under $obj/src: build first"; echo "layers: 0 passed, 1 failed"; exit 1; }
for f in $objs; do
	src=${f#"$obj"/}
	for s in $(nm --defined-only -g "$f" | awk '$2 ~ /^[TDBR]$/ {print $3}'); do def[$s]=${src%.o}.c; done
done
edges=$(for f in $objs; do
	src=${f#"$obj"/}
	src=${src%.o}.c
	for s in $(nm -u "$f" | awk '{print $2}'); do
		t=${def[$s]:-}
		[ -n "$t" ] && [ "$t" != "$src" ] && echo "$src $t"
	done
done | sort -u)
mutual=0 upward=0
while read -r a b; do
	[ -n "$a" ] || continue
	if grep -qx "$b $a" <<<"$edges"; then
		[[ "$a" < "$b" ]] && { echo "# $a and $b call each other"; mutual=$((mutual + 1)); }
		continue
	fi
	la=${a#src/}; la=${la%%/*}; lb=${b#src/}; lb=${lb%%/*}
	ra=$(rank "$la"); rb=$(rank "$lb")
	if [ "$ra" -lt "$rb" ] || { [ "$ra" -eq "$rb" ] && [ "$la" != "$lb" ]; }; then
		echo "# $a calls up or across into $b"
		upward=$((upward + 1))
	fi
done <<<"$edges"
n=$(grep -c . <<<"$edges")
passed=0 failed=0
if [ "$mutual" -eq 0 ]; then echo "ok - no two files call each other ($n calls between files)"; passed=$((passed + 1))
else echo "FAIL - $mutual pairs of files call each other"; failed=$((failed + 1)); fi
if [ "$upward" -eq 0 ]; then echo "ok - every call goes down the layers"; passed=$((passed + 1))
else echo "FAIL - $upward calls go up or across the layers"; failed=$((failed + 1)); fi
echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
