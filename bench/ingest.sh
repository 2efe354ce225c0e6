#!/usr/bin/env bash
# ingest.sh - how fast `kindling ingest --wait` turns video files into clips
# (probe, thumbnail, poster, storyboard, rendition), beside a shell script
# making the same outputs with ffprobe and ffmpeg processes
# (bench/clip_outputs.sh), run as many at a time as kindling has workers.
#
#   bash bench/ingest.sh /path/to/kindling        (bench/bench.sh calls it)
#
# Two cases, in one run:
#   short  BENCH_INGEST_CLIPS (100) clips of BENCH_CLIP_SECONDS (5) s,
#          BENCH_CLIP_SIZE (640x360), H.264 + AAC, each different;
#   long   one clip of BENCH_LONG_SECONDS (300; 0 skips it) s, 1920x1080
#          30 fps H.264 (keyframe every BENCH_LONG_GOP (250, x264's default)
#          frames) + AAC.
# The clips are made with ffmpeg's testsrc2 and sine sources first; making
# them is not measured.
#
# Measured: wall time of `kindling ingest --wait` (it hashes and copies each
# file into the data folder, then processes it in worker processes) and of
# `xargs -P WORKERS bash clip_outputs.sh`; peak memory:
#   - peak RSS of one process: GNU time's maximum resident set size over the
#     whole process tree (the kindling CLI and its workers; xargs, bash and
#     the ffmpeg/ffprobe processes), when /usr/bin/time is there;
#   - sampled every 50 ms from /proc: VmHWM of each worker / ffmpeg process,
#     and the largest sum of VmRSS of those alive at once.
#
# Goals (the speed issue), printed as "goal:" lines: at least 10x the
# script's clips/s for the short clips; at least 3x for the long 1080p clip
# with a keyframe every 250 frames (with another BENCH_LONG_GOP the line
# says so and is not counted).
#
# Settings (environment): BENCH_WORKERS (cores; written to kindling.conf as
# `workers`, and the script's parallelism), BENCH_INGEST_TIMEOUT (900 s per
# measured run).  Needs ffmpeg, ffprobe, xargs, awk.
set -eu

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: bash bench/ingest.sh /path/to/kindling" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

N_CLIPS=${BENCH_INGEST_CLIPS:-100}
CLIP_S=${BENCH_CLIP_SECONDS:-5}
CLIP_SIZE=${BENCH_CLIP_SIZE:-640x360}
LONG_S=${BENCH_LONG_SECONDS:-300}
LONG_GOP=${BENCH_LONG_GOP:-250}
WORKERS=${BENCH_WORKERS:-$(nproc)}
RUN_TIMEOUT=${BENCH_INGEST_TIMEOUT:-900}
SAMPLE=0.05

for tool in ffmpeg ffprobe xargs awk timeout; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps-bench installs it)"
done
case "$N_CLIPS$CLIP_S$LONG_S$WORKERS$LONG_GOP" in *[!0-9]*) die "counts must be whole numbers" ;; esac
if [ "$N_CLIPS" -lt 1 ] || [ "$CLIP_S" -lt 1 ] || [ "$WORKERS" -lt 1 ]; then die "bad settings"; fi
GTIME=""
[ -z "${BENCH_NO_GNU_TIME:-}" ] && [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1 && GTIME=/usr/bin/time

W=$(mktemp -d "${TMPDIR:-/tmp}/kindling-ingest.XXXXXX")
SAMPLER=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$SAMPLER" ] && kill -KILL "$SAMPLER" 2>/dev/null
	stop_bg
	kill_under "$W"
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: failed at line $LINENO" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. the clips ---------------------------------------------------------------
# The short clips are the pieces of one long testsrc2 run cut every CLIP_S
# seconds (a keyframe at each cut, no re-encode): the moving pattern and the
# clock make every piece, and so its SHA-256, different.
echo "bench: making $N_CLIPS clips of $CLIP_S s at $CLIP_SIZE ..." >&2
mkdir -p "$W/short"
bg_wait timeout 900 ffmpeg -nostdin -v error \
	-f lavfi -i "testsrc2=size=$CLIP_SIZE:rate=30" \
	-f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000" \
	-t $((N_CLIPS * CLIP_S)) -map 0:v -map 1:a \
	-c:v libx264 -preset ultrafast -crf 30 -pix_fmt yuv420p \
	-force_key_frames "expr:gte(t,n_forced*$CLIP_S)" -c:a aac -b:a 96k \
	-f segment -segment_time "$CLIP_S" -reset_timestamps 1 -segment_format mp4 \
	"$W/short/clip%04d.mp4" || die "ffmpeg could not make the short clips"
# The last piece can be a sliver (audio past the last video frame): keep N.
ls "$W/short" | sort | tail -n +$((N_CLIPS + 1)) | while read -r x; do rm -f "$W/short/$x"; done
GOT=$(ls "$W/short" | wc -l)
[ "$GOT" -eq "$N_CLIPS" ] || die "made $GOT short clips, not $N_CLIPS"
SHORT_BYTES=$(du -cb "$W"/short/*.mp4 | tail -n 1 | cut -f1)
UNIQUE=$(sha256sum "$W"/short/*.mp4 | cut -d' ' -f1 | sort -u | wc -l)
[ "$UNIQUE" -eq "$N_CLIPS" ] || die "only $UNIQUE of the $N_CLIPS clips differ"

LONG=""
if [ "$LONG_S" -gt 0 ]; then
	# 30 s (at most) made once, then repeated without re-encoding up to
	# LONG_S: a real 1080p H.264 file of that length at a phone's bit rate.
	piece=$((LONG_S < 30 ? LONG_S : 30))
	echo "bench: making one ${LONG_S} s 1920x1080 clip ..." >&2
	mkdir -p "$W/long"
	bg_wait timeout 900 ffmpeg -nostdin -v error \
		-f lavfi -i "testsrc2=size=1920x1080:rate=30" \
		-f lavfi -i "sine=frequency=330:beep_factor=2:sample_rate=48000" \
		-t "$piece" -map 0:v -map 1:a \
		-c:v libx264 -preset ultrafast -crf 30 -pix_fmt yuv420p -g "$LONG_GOP" \
		-c:a aac -b:a 128k "$W/long/piece.mp4" || die "ffmpeg could not make the 1080p piece"
	bg_wait timeout 300 ffmpeg -nostdin -v error -stream_loop $(((LONG_S + piece - 1) / piece - 1)) \
		-i "$W/long/piece.mp4" -map 0 -c copy -t "$LONG_S" "$W/long/long1080p.mp4" ||
		die "ffmpeg could not make the long clip"
	# The first CLIP_S seconds alone: the same picture size, a short file,
	# to see whether a worker's memory grows with the length.
	timeout 300 ffmpeg -nostdin -v error -i "$W/long/piece.mp4" -map 0 -c copy -t "$CLIP_S" \
		"$W/long/short1080p.mp4" || die "ffmpeg could not cut the short 1080p clip"
	rm -f "$W/long/piece.mp4"
	REF=$W/long/short1080p.mp4
	LONG=$W/long/long1080p.mp4
	LONG_BYTES=$(wc -c <"$LONG")
	LONG_DUR=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$LONG")
fi
sync

# --- 2. kindling ----------------------------------------------------------------
timeout 60 "$BIN" school add bench "Bench School" --data "$W/kd" >"$W/school.log" 2>&1 ||
	{ cat "$W/school.log" >&2; die "school add failed"; }
echo "workers = $WORKERS" >>"$W/kd/kindling.conf"

# run_kindling NAME FILES...: ingest --wait, sampled; sets the R_* results.
run_kindling() {
	local name=$1 t0 t1 rc=0
	shift
	sample_mem "$W/mem.kd.$name" "$W/kd" "$SAMPLE" &
	SAMPLER=$!
	t0=$(now)
	if [ -n "$GTIME" ]; then
		bg_wait timeout "$RUN_TIMEOUT" "$GTIME" -f '%M' -o "$W/time.kd.$name" \
			"$BIN" ingest --data "$W/kd" --school bench --practice differentiation --wait --json \
			"$@" >"$W/out.kd.$name" 2>"$W/err.kd.$name" || rc=$?
	else
		bg_wait timeout "$RUN_TIMEOUT" "$BIN" ingest --data "$W/kd" --school bench \
			--practice differentiation --wait --json "$@" \
			>"$W/out.kd.$name" 2>"$W/err.kd.$name" || rc=$?
	fi
	t1=$(now)
	stop_sampler "$SAMPLER" "$W/mem.kd.$name"
	SAMPLER=""
	if [ "$rc" -ne 0 ]; then
		tail -n 20 "$W/err.kd.$name" >&2
		grep -v '"status":"ready"' "$W/out.kd.$name" | head -n 5 >&2 || true
		die "kindling ingest ($name) exited with $rc"
	fi
	local ready
	ready=$(grep -c '"status":"ready"' "$W/out.kd.$name" || true)
	[ "$ready" -eq "$#" ] || die "kindling ingest ($name): $ready of $# clips ready"
	echo "$t0 $t1" >"$W/wall.kd.$name"
}

# run_script NAME FILES...: clip_outputs.sh per file, WORKERS at a time.
run_script() {
	local name=$1 t0 t1 rc=0
	shift
	mkdir -p "$W/sc.$name"
	local f
	for f in "$@"; do # FILE and OUTDIR lines, two arguments a run
		printf '%s\n%s\n' "$f" "$W/sc.$name/$(basename "$f" .mp4)"
	done >"$W/list.$name"
	sample_mem "$W/mem.sc.$name" "$W/" "$SAMPLE" &
	SAMPLER=$!
	t0=$(now)
	if [ -n "$GTIME" ]; then
		bg_wait timeout "$RUN_TIMEOUT" "$GTIME" -f '%M' -o "$W/time.sc.$name" \
			xargs -a "$W/list.$name" -P "$WORKERS" -n 2 -d '\n' bash "$HERE/clip_outputs.sh" \
			>"$W/out.sc.$name" 2>"$W/err.sc.$name" || rc=$?
	else
		bg_wait timeout "$RUN_TIMEOUT" \
			xargs -a "$W/list.$name" -P "$WORKERS" -n 2 -d '\n' bash "$HERE/clip_outputs.sh" \
			>"$W/out.sc.$name" 2>"$W/err.sc.$name" || rc=$?
	fi
	t1=$(now)
	stop_sampler "$SAMPLER" "$W/mem.sc.$name"
	SAMPLER=""
	[ "$rc" -eq 0 ] || { tail -n 20 "$W/err.sc.$name" >&2; die "the ffmpeg script ($name) exited with $rc"; }
	echo "$t0 $t1" >"$W/wall.sc.$name"
}

LOAD0=$(load1)
echo "bench: kindling ingest --wait, $N_CLIPS clips ..." >&2
run_kindling short "$W"/short/*.mp4
echo "bench: ffmpeg script, $N_CLIPS clips, $WORKERS at a time ..." >&2
run_script short "$W"/short/*.mp4
if [ -n "$LONG" ]; then
	echo "bench: kindling ingest --wait, the ${LONG_S} s 1080p clip ..." >&2
	run_kindling long "$LONG"
	echo "bench: ffmpeg script, the ${LONG_S} s 1080p clip ..." >&2
	run_script long "$LONG"
	echo "bench: kindling ingest --wait and the script, a ${CLIP_S} s 1080p clip ..." >&2
	run_kindling ref "$REF"
	run_script ref "$REF"
fi

# Outputs are all there, on both sides.
for d in "$W"/kd/media/*/; do
	for x in thumbnail.jpg poster.jpg storyboard.jpg storyboard.vtt video.mp4; do
		[ -s "$d$x" ] || die "kindling made no $x in $d"
	done
done
for d in "$W"/sc.*/*/; do
	for x in facts.json thumbnail.jpg poster.jpg storyboard.jpg storyboard.vtt video.mp4; do
		[ -s "$d$x" ] || die "the script made no $x in $d"
	done
done

LOAD1=$(load1)

# A diagnostic, not part of the comparison: the time a worker takes on its
# own, one at a time and WORKERS at a time, on the first (at most) 20 short
# clips, run again by hand.  It tells the worker's cost from the waiting of
# ingest --wait's loop.
DIAG=""
DN=$((N_CLIPS < 20 ? N_CLIPS : 20))
if [ "$DN" -ge 2 ]; then
	ids=$(grep -o '"id":[0-9]*' "$W/out.kd.short" | head -n "$DN" | cut -d: -f2)
	t0=$(now)
	for id in $ids; do
		timeout 300 "$BIN" worker --data "$W/kd" --clip "$id" >>"$W/diag.out" 2>>"$W/diag.err" ||
			die "kindling worker --clip $id failed"
	done
	t1=$(now)
	echo "$ids" | timeout 300 xargs -P "$WORKERS" -I{} "$BIN" worker --data "$W/kd" --clip {} \
		>>"$W/diag.out" 2>>"$W/diag.err" || die "kindling worker (xargs) failed"
	t2=$(now)
	DIAG="$(elapsed "$t0" "$t1") $(elapsed "$t1" "$t2") $DN"
fi

# --- 3. the table -----------------------------------------------------------------
# stats SIDE NAME COUNT: "wall s_per_clip clips_per_s peak_proc_kb peak_sum_kb
# max_alive tool_hwm_max_kb tool_hwm_median_kb intake_s busy_s"
stats() {
	local side=$1 name=$2 count=$3 gt="n/a"
	[ -s "$W/time.$side.$name" ] && gt=$(tail -n 1 "$W/time.$side.$name")
	read -r t0 t1 <"$W/wall.$side.$name"
	awk -v t0="$t0" -v t1="$t1" -v n="$count" -v gt="$gt" -v side="$side" '
	$1 == "proc" {
		if ((side == "kd" && $3 == "worker") || (side == "sc" && ($3 == "ffmpeg" || $3 == "ffprobe"))) {
			h[++m] = $4
			if ($4 > hmax) hmax = $4
			if (first == "" || $5 < first) first = $5
			busy += $6 - $5
		}
	}
	$1 == "peak" {
		if ((side == "kd" && $2 == "worker") || (side == "sc" && $2 == "tools")) { psum = $3; alive = $4 }
	}
	END {
		wall = t1 - t0
		# median of the sampled peaks
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (h[j] < h[i]) { x = h[i]; h[i] = h[j]; h[j] = x }
		med = m ? h[int((m + 1) / 2)] : -1
		printf "%.2f %.3f %.2f %s %d %d %d %d %.2f %.1f\n", wall, wall / n, n / wall, gt,
			psum, alive, hmax, med, (first == "" ? -1 : first - t0), busy
	}' "$W/mem.$side.$name"
}

row() { # label tool stats...
	local label=$1 tool=$2 wall spc cps gt psum alive hmax _rest
	read -r wall spc cps gt psum alive hmax _rest <<<"$3"
	printf '%-26s %-9s %8s %8s %8s %12s %14s %10s %6s\n' "$label" "$tool" "$wall" "$spc" "$cps" \
		"$(if [ "$gt" = n/a ]; then echo n/a; else mib "$gt"; fi)" "$(mib "$hmax")" \
		"$(mib "$psum")" "$alive"
}

ratio() { # kd_stats sc_stats
	local kw kg kp sw sg sp _r
	read -r kw _ _ kg kp _r <<<"$1"
	read -r sw _ _ sg sp _r <<<"$2"
	awk -v kw="$kw" -v sw="$sw" -v kg="$kg" -v sg="$sg" -v kp="$kp" -v sp="$sp" 'BEGIN {
		printf "  ratio kindling/script: time %.2fx, clips/s %.2fx", kw / sw, sw / kw
		if (kg != "n/a" && sg != "n/a" && sg > 0) printf ", peak RSS of a process %.2fx", kg / sg
		if (sp > 0) printf ", peak RSS alive at once %.2fx", kp / sp
		printf "  (%s)\n", kw < sw ? sprintf("kindling %.2fx faster", sw / kw) : sprintf("the script %.2fx faster", kw / sw)
	}'
}

KS=$(stats kd short "$N_CLIPS")
SS=$(stats sc short "$N_CLIPS")
echo
echo "Ingest: kindling ingest --wait (workers = $WORKERS in kindling.conf) beside bench/clip_outputs.sh (ffprobe + 4 ffmpeg per clip, xargs -P $WORKERS); $(nproc) cores"
printf '%-26s %-9s %8s %8s %8s %12s %14s %10s %6s\n' case tool "wall s" s/clip clips/s \
	"peak MiB(1)" "proc HWM MiB(2)" "sum MiB(3)" alive
row "$N_CLIPS x ${CLIP_S}s $CLIP_SIZE" kindling "$KS"
row "" script "$SS"
ratio "$KS" "$SS"
if [ -n "$LONG" ]; then
	KL=$(stats kd long 1)
	SL=$(stats sc long 1)
	row "1 x $(printf '%.0f' "$LONG_DUR")s 1920x1080 30fps" kindling "$KL"
	row "" script "$SL"
	ratio "$KL" "$SL"
	KR=$(stats kd ref 1)
	SR=$(stats sc ref 1)
	row "1 x ${CLIP_S}s 1920x1080 30fps" kindling "$KR"
	row "" script "$SR"
	ratio "$KR" "$SR"
fi
echo
echo "(1) GNU time, maximum resident set size of any one process of the run (kindling: the ingest CLI and its workers; script: xargs, bash, ffprobe, ffmpeg)"
echo "(2) largest VmHWM of one worker (kindling) / ffmpeg or ffprobe process (script), sampled every $(awk -v s=$SAMPLE 'BEGIN{print s*1000}') ms from /proc"
echo "(3) largest sum of VmRSS of those processes alive at the same moment; alive: the most of them seen at once"
printf 'clips: %d short, %.1f MB in all (%.2f MB each)' "$N_CLIPS" \
	"$(awk -v b="$SHORT_BYTES" 'BEGIN { print b / 1e6 }')" \
	"$(awk -v b="$SHORT_BYTES" -v n="$N_CLIPS" 'BEGIN { print b / 1e6 / n }')"
[ -n "$LONG" ] && printf '; long %.1f MB (%.1f Mbit/s, keyframe every %d frames)' \
	"$(awk -v b="$LONG_BYTES" 'BEGIN { print b / 1e6 }')" \
	"$(awk -v b="$LONG_BYTES" -v d="$LONG_DUR" 'BEGIN { print b * 8 / d / 1e6 }')" "$LONG_GOP"
echo

read -r kw _ _ _ _ kalive khmax kmed kintake _ <<<"$KS"
echo "kindling, $N_CLIPS short clips: before the first worker started (SHA-256, copy and fsync of every file, catalogue rows): ${kintake} s of ${kw} s; workers alive at once: at most $kalive (workers = $WORKERS)"
if [ -n "$DIAG" ]; then
	read -r d1 d2 dn <<<"$DIAG"
	awk -v a="$d1" -v b="$d2" -v n="$dn" -v w="$WORKERS" -v kw="$kw" -v N="$N_CLIPS" 'BEGIN {
		printf "  diagnostic: the same workers started by hand (kindling worker --clip ID) on %d of these clips: %.3f s/clip one at a time, %.3f s/clip %d at a time (xargs -P %d); ingest --wait spent %.3f s/clip\n",
			n, a / n, b / n, w, w, kw / N
	}'
fi
if [ -n "$LONG" ]; then
	read -r lw _ _ _ _ _ lhmax _ lintake lbusy <<<"$KL"
	echo "kindling, long clip: before its worker started (SHA-256, copy, fsync): ${lintake} s of ${lw} s; the worker ${lbusy} s (sampled)"
	read -r _ _ _ _ _ _ rhmax _ <<<"$KR"
	awk -v s="$kmed" -v sm="$khmax" -v r="$rhmax" -v l="$lhmax" -v d="$LONG_DUR" -v cs="$CLIP_S" \
		-v sz="$CLIP_SIZE" 'BEGIN {
		printf "kindling worker peak RSS (VmHWM): %ss %s clips %.1f MiB (median; max %.1f); %ss 1080p clip %.1f MiB; %.0fs 1080p clip %.1f MiB = %.2fx the %ss 1080p clip for %.0fx the length\n",
			cs, sz, s / 1024, sm / 1024, cs, r / 1024, d, l / 1024, l / r, cs, d / cs
	}'
fi
echo "load average (1 min) of the machine: $LOAD0 before the measured runs, $LOAD1 after them ($(nproc) cores; anything else running skews both sides)"

# --- 4. the goals -------------------------------------------------------------------
echo
# clips_ratio KD_STATS SCRIPT_STATS: "ratio kd_clips_per_s script_clips_per_s"
clips_ratio() {
	local kw sw
	read -r kw _ <<<"$1"
	read -r sw _ <<<"$2"
	awk -v kw="$kw" -v sw="$sw" 'BEGIN { printf "%.6g %.3f %.3f\n", sw / kw, 1 / kw, 1 / sw }'
}
read -r r kc sc < <(clips_ratio "$KS" "$SS")
goal_ratio "ingest, $N_CLIPS x ${CLIP_S}s $CLIP_SIZE vs ffmpeg script" 10 "$r" \
	"$(awk -v a="$kc" -v b="$sc" -v n="$N_CLIPS" 'BEGIN { printf "%.2f vs %.2f clips/s", a * n, b * n }')"
if [ -z "$LONG" ]; then
	goal_na "ingest, long 1080p clip (GOP 250) vs script" ">= 3x" "BENCH_LONG_SECONDS=0"
else
	read -r r _ _ < <(clips_ratio "$KL" "$SL")
	read -r kw _ <<<"$KL"
	read -r sw _ <<<"$SL"
	what="ingest, $(printf '%.0f' "$LONG_DUR")s 1080p clip (GOP $LONG_GOP) vs script"
	if [ "$LONG_GOP" = 250 ]; then
		goal_ratio "$what" 3 "$r" "$kw s vs $sw s"
	else
		goal_na "$what" ">= 3x" "the goal is for a keyframe every 250 frames; at GOP $LONG_GOP: $(awk -v r="$r" 'BEGIN { printf "%.2fx", r }')"
	fi
fi
