# lib.sh - helpers shared by bench/ingest.sh and bench/upload.sh (sourced).
# shellcheck shell=bash
#
# Everything here uses bash builtins only while it samples, so the sampler
# costs the measured programs as little CPU as possible on a small machine.

die() {
	echo "bench: $*" >&2
	exit 1
}

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Stop one process we started: TERM, wait up to 12 s, then KILL.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 120); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# bg_wait CMD...: run CMD in the background and wait for it; its exit
# status is bg_wait's.  bash runs a trap only once the foreground command
# is done, but interrupts `wait` at once: so a TERM or INT to the script
# stops it now, not after the run.  CMD is a `timeout` command: timeout
# passes a TERM on to its whole process group (every process under it),
# which the script's cleanup sends through BG_PID.  CMD reads no stdin.
BG_PID=""
bg_wait() {
	local rc=0
	"$@" </dev/null &
	BG_PID=$!
	wait "$BG_PID" || rc=$?
	BG_PID=""
	return "$rc"
}

# Stop what bg_wait started (from a cleanup): TERM to the timeout process,
# which passes it on to its process group, then up to 5 s for it to end.
stop_bg() {
	local i
	[ -n "$BG_PID" ] || return 0
	kill -TERM "$BG_PID" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$BG_PID" 2>/dev/null || true
	BG_PID=""
}

# Kill, one pid at a time, every process whose command line names the
# private temp folder $1 (workers, ffmpeg runs this script started), except
# this shell and its sampler.  Used on exit only.
kill_under() {
	local dir=$1 d pid a c
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] && continue
		[ "$pid" = "$BASHPID" ] && continue
		{ mapfile -d '' -t a <"$d/cmdline"; } 2>/dev/null || continue
		c="${a[*]}"
		case "$c" in
		*"$dir"*) kill -KILL "$pid" 2>/dev/null || true ;;
		esac
	done
}

# sample_mem OUT PATTERN INTERVAL: until TERM, every INTERVAL seconds, look at
# every process whose command line contains PATTERN and whose name is
# kindling, ffmpeg or ffprobe.  On TERM, writes OUT:
#   proc PID KIND HWM_KB FIRST_T LAST_T   one per process seen (KIND: worker,
#                                          cli, server, ffmpeg, ffprobe)
#   peak KIND SUM_RSS_KB COUNT             the largest sum of VmRSS over the
#                                          processes of one kind alive at once,
#                                          and the most of them alive at once
# Run it in the background: sample_mem OUT PAT 0.05 & SAMPLER=$!
sample_mem() {
	local out=$1 pat=$2 interval=$3 d pid a c k v name rss hwm kind sfd
	declare -A HWM FIRST LAST KIND PEAKSUM PEAKN SUM N
	dump() {
		local p kd
		{
			for p in "${!HWM[@]}"; do
				echo "proc $p ${KIND[$p]} ${HWM[$p]} ${FIRST[$p]} ${LAST[$p]}"
			done
			for kd in "${!PEAKSUM[@]}"; do
				echo "peak $kd ${PEAKSUM[$kd]} ${PEAKN[$kd]}"
			done
		} >"$out.tmp"
		mv "$out.tmp" "$out"
		exit 0
	}
	trap dump TERM
	# A pipe nobody writes to: read -t on it is a sleep without a fork.
	exec {sfd}<> <(:)
	while :; do
		SUM=() N=()
		for d in /proc/[0-9]*; do
			{ mapfile -d '' -t a <"$d/cmdline"; } 2>/dev/null || continue
			c="${a[*]}"
			case "$c" in *"$pat"*) ;; *) continue ;; esac
			pid=${d#/proc/}
			name="" rss="" hwm=""
			while read -r k v _; do
				case "$k" in
				Name:) name=$v ;;
				VmRSS:) rss=$v ;;
				VmHWM:) hwm=$v ;;
				esac
			done 2>/dev/null <"$d/status" || true
			[ -n "$hwm" ] || continue
			case "$name" in
			kindling)
				case "${a[1]:-}" in
				worker) kind=worker ;;
				serve) kind=server ;;
				*) kind=cli ;;
				esac
				;;
			ffmpeg | ffprobe) kind=$name ;;
			*) continue ;;
			esac
			[ -n "${FIRST[$pid]:-}" ] || FIRST[$pid]=$EPOCHREALTIME
			LAST[$pid]=$EPOCHREALTIME
			KIND[$pid]=$kind
			HWM[$pid]=$hwm
			SUM[$kind]=$((${SUM[$kind]:-0} + rss))
			N[$kind]=$((${N[$kind]:-0} + 1))
			# ffmpeg and ffprobe together: the script's processes.
			case "$kind" in ffmpeg | ffprobe)
				SUM[tools]=$((${SUM[tools]:-0} + rss))
				N[tools]=$((${N[tools]:-0} + 1)) ;;
			esac
		done
		for k in "${!SUM[@]}"; do
			[ "${SUM[$k]}" -gt "${PEAKSUM[$k]:-0}" ] && PEAKSUM[$k]=${SUM[$k]}
			[ "${N[$k]}" -gt "${PEAKN[$k]:-0}" ] && PEAKN[$k]=${N[$k]}
		done
		read -r -t "$interval" -u "$sfd" _ || true
	done
}

# Stop a sampler and wait for its report (bounded).
stop_sampler() {
	local pid=$1 out=$2 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		[ -e "$out" ] && break
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || true
	[ -e "$out" ] || : >"$out"
}

mib() { awk -v k="$1" 'BEGIN { if (k == "" || k < 0) print "n/a"; else printf "%.1f", k / 1024 }'; }

# The 1-minute load average: other work on the machine skews the times.
load1() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }

# sample_rss PID OUT INTERVAL: until TERM, read VmRSS of one process every
# INTERVAL seconds (bash builtins only: one small read a sample); on TERM
# write "PEAK_RSS_KB LAST_HWM_KB SAMPLES" to OUT.  Run it in the background.
sample_rss() {
	local pid=$1 out=$2 interval=$3 k v peak=0 hwm=0 n=0 sfd
	trap 'echo "$peak $hwm $n" >"$out.tmp"; mv "$out.tmp" "$out"; exit 0' TERM
	exec {sfd}<> <(:)
	while :; do
		while read -r k v _; do
			case "$k" in
			VmRSS:) [ "$v" -gt "$peak" ] && peak=$v; n=$((n + 1)) ;;
			VmHWM:) hwm=$v ;;
			esac
		done 2>/dev/null <"/proc/$pid/status" || true
		read -r -t "$interval" -u "$sfd" _ || true
	done
}

# --- goals -------------------------------------------------------------------
# One line per goal of the speed issue:
#   goal: WHAT   target ...   measured ...   ratio ...   PASS | MISS | n/a
# printed, and appended to the file $BENCH_GOALS when it is set (bench.sh
# prints them all together at the end of a run).

goal_line() {
	echo "$1"
	if [ -n "${BENCH_GOALS:-}" ]; then echo "$1" >>"$BENCH_GOALS"; fi
	return 0
}

# goal_ratio WHAT TARGET RATIO MEASURED: RATIO (kindling / the baseline) must
# be at least TARGET; MEASURED says what was compared.  An empty or "n/a"
# RATIO is a MISS (nothing was measured).
goal_ratio() {
	goal_line "$(awk -v w="$1" -v t="$2" -v r="$3" -v m="$4" '
	function fmt(x) { return x < 0.1 ? sprintf("%.2g", x) : sprintf("%.2f", x) }
	BEGIN {
		ok = (r != "" && r != "n/a" && r + 0 >= t + 0)
		printf "goal: %-44s target >= %sx   measured %s   ratio %s   %s", w, t, m,
			(r == "" || r == "n/a") ? "n/a" : fmt(r) "x", ok ? "PASS" : "MISS"
	}')"
}

# goal_below WHAT LIMIT UNIT VALUE [DETAIL] [STRICT]: VALUE must be under
# LIMIT (STRICT "le": at most LIMIT); the ratio is VALUE / LIMIT (1 or less
# passes).  An empty or "n/a" VALUE is a MISS.
goal_below() {
	goal_line "$(awk -v w="$1" -v l="$2" -v u="$3" -v v="$4" -v d="${5:-}" -v s="${6:-lt}" '
	function fmt(x) { return x < 0.1 ? sprintf("%.2g", x) : x < 100 ? sprintf("%.2f", x) : sprintf("%.0f", x) }
	function num(x) { return x < 10 ? sprintf("%.2f", x) : x < 1000 ? sprintf("%.1f", x) : sprintf("%.0f", x) }
	BEGIN {
		none = (v == "" || v == "n/a")
		ok = !none && (s == "le" ? v + 0 <= l + 0 : v + 0 < l + 0)
		printf "goal: %-44s target %s %s %s   measured %s%s   ratio %s   %s", w,
			s == "le" ? "<=" : "<", l, u, none ? "n/a" : num(v) " " u, d == "" ? "" : " " d,
			none ? "n/a" : fmt(v / l) "x the target", ok ? "PASS" : "MISS"
	}')"
}

# goal_na WHAT TARGET WHY: a goal this run did not measure.
goal_na() {
	goal_line "$(printf 'goal: %-44s target %s   measured n/a (%s)   ratio n/a   n/a' "$1" "$2" "$3")"
}

# check_zero WHAT VALUE [DETAIL]: a condition of a valid measurement (a count
# that must be 0), printed and kept beside the goals as a "check:" line.
check_zero() {
	goal_line "$(printf 'check: %-43s target 0   measured %s%s   %s' "$1" "$2" "${3:+ $3}" \
		"$([ "$2" = 0 ] && echo PASS || echo MISS)")"
}
