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
