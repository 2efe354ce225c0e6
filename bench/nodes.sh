#!/usr/bin/env bash
# nodes.sh - processing throughput of `kindling work` nodes: the same queue
# of clips processed by one node, then by two (each with BENCH_NODE_WORKERS
# workers, default 1), on one data folder each time.  The clips are queued
# with `kindling ingest` (no --wait: nothing processes them) before any
# node starts; the time is from the first node's start to the last clip
# ready.
#
#   bash bench/nodes.sh /path/to/kindling        (bench/bench.sh calls it)
#
# On a machine of N cores, nodes x workers past N cannot be faster: the
# figures then say what a core does, and that the claim/lease protocol
# costs nothing measurable beside the processing (clips/s per core).
#
# Settings (environment): BENCH_NODE_CLIPS (40) clips of BENCH_CLIP_SECONDS
# (5) s at BENCH_CLIP_SIZE (640x360), BENCH_NODE_WORKERS (1),
# BENCH_NODE_TIMEOUT (600 s).  Needs ffmpeg, sqlite3.
set -eu

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: bash bench/nodes.sh /path/to/kindling" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

N=${BENCH_NODE_CLIPS:-40}
CLIP_S=${BENCH_CLIP_SECONDS:-5}
SIZE=${BENCH_CLIP_SIZE:-640x360}
WORKERS=${BENCH_NODE_WORKERS:-1}
TIMEOUT=${BENCH_NODE_TIMEOUT:-600}
for tool in ffmpeg sqlite3; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps-bench installs it)"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/kindling-bench-nodes.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT

echo "bench: making $N clips of ${CLIP_S}s at $SIZE ..." >&2
mkdir -p "$W/clips"
for i in $(seq 1 "$N"); do
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=$SIZE:rate=30:duration=$CLIP_S" \
		-f lavfi -i "sine=frequency=$((200 + i * 7)):duration=$CLIP_S" -vf "hue=h=$((i * 9))" \
		-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$W/clips/c$i.mp4" ||
		die "ffmpeg could not make the clips"
done

# run NODES: the queue processed by NODES work nodes; prints the seconds
# and how many clips each node took ("20/20").
run() {
	local nodes=$1 d=$W/data.$1 t0 t1 k ready
	mkdir -p "$d"
	printf 'workers = %s\n' "$WORKERS" >"$d/kindling.conf"
	"$BIN" school add north-high "North High" --data "$d" >/dev/null 2>&1 ||
		die "cannot add a school"
	"$BIN" ingest --data "$d" --school north-high --practice station-rotation "$W/clips" \
		>/dev/null 2>"$W/ingest.err" || die "ingest failed: $(tail -c 300 "$W/ingest.err")"
	PIDS=()
	t0=$(now)
	for k in $(seq 1 "$nodes"); do
		KINDLING_NODE=bench-$k "$BIN" work --data "$d" >"$W/work.$nodes.$k.log" 2>&1 &
		PIDS+=("$!")
	done
	local deadline=$((SECONDS + TIMEOUT))
	while :; do
		ready=$(sqlite3 -cmd '.timeout 5000' "$d/catalogue.db" \
			"SELECT count(*) FROM clips WHERE status IN ('ready', 'failed')")
		[ "$ready" -ge "$N" ] && break
		[ $SECONDS -lt $deadline ] || die "$nodes node(s): only $ready of $N clips done in $TIMEOUT s"
		sleep 0.05
	done
	t1=$(now)
	local failed
	failed=$(sqlite3 "$d/catalogue.db" "SELECT count(*) FROM clips WHERE status = 'failed'")
	[ "$failed" -eq 0 ] || die "$nodes node(s): $failed clips failed"
	for k in "${PIDS[@]}"; do kill -TERM "$k" 2>/dev/null || true; done
	for k in "${PIDS[@]}"; do wait "$k" 2>/dev/null || true; done
	PIDS=()
	echo "$(elapsed "$t0" "$t1") $(sqlite3 "$d/catalogue.db" \
		"SELECT group_concat(n, '/') FROM (SELECT count(*) AS n FROM jobs GROUP BY node ORDER BY node)")"
}

read -r one share1 <<<"$(run 1)"
read -r two share2 <<<"$(run 2)"
cores=$(nproc)
echo "Processing nodes: $N clips of ${CLIP_S}s $SIZE H.264 + AAC queued, then kindling work nodes of $WORKERS worker(s) each; $cores cores"
awk -v n="$N" -v a="$one" -v b="$two" -v c="$cores" -v w="$WORKERS" -v s1="$share1" -v s2="$share2" 'BEGIN {
	printf "%-10s %8s %9s %9s %14s  %s\n", "nodes", "wall s", "clips/s", "s/clip", "clips/s/core", "clips per node"
	c1 = (w < c ? w : c); c2 = (2 * w < c ? 2 * w : c)
	printf "%-10s %8.2f %9.2f %9.3f %14.2f  %s\n", "1 node", a, n / a, a / n, n / a / c1, s1
	printf "%-10s %8.2f %9.2f %9.3f %14.2f  %s\n", "2 nodes", b, n / b, b / n, n / b / c2, s2
	printf "  two nodes / one: %.2fx clips/s, with %d of %d cores busy against %d\n", a / b, c2, c, c1
}'
if [ "$((2 * WORKERS))" -gt "$cores" ]; then
	echo "  (two nodes of $WORKERS workers need more than this machine's $cores cores: they cannot be faster here)"
fi
