#!/usr/bin/env bash
# tests/integration/cluster.sh - kindling as several machines would run it:
# the catalogue in PostgreSQL, the media in an S3 bucket (s3rver), two web
# nodes (`serve --no-processing`) behind nginx as a round-robin load
# balancer, and two processing nodes (`kindling work`), each node with a
# data folder and a node name of its own, so that nothing can pass between
# them through the local disk:
#
#   - every node comes up on one shared kindling.conf (database = ...,
#     storage = s3://..., s3_endpoint, workers = 1, a short job lease);
#     accounts made with `user add` on one node's folder are everyone's;
#   - a coach uploads through nginx with `kindling upload`: a small clip,
#     and one of 27 MB sent in several PATCHes (the CLI killed part-way and
#     run again resumes; tus-js-client in 3 MiB chunks): the PATCHes of one
#     upload land on both web nodes, the object in the bucket is the file,
#     byte for byte, and a work node (not a web node) processes each clip;
#   - a teacher's request for the video through nginx is a 302 to a
#     presigned s3rver URL whose bytes are the object's (ffprobe reads the
#     video through it); each web node asked directly answers the same;
#   - a work node killed -9 mid-job (its worker processes die with it):
#     the other takes the job over once the lease has run out and finishes
#     it;
#   - an upload begun, the CLI killed, then the web node that took its
#     bytes killed -9: nginx goes on answering 200 (the dead node is passed
#     over), the CLI run again resumes on the other node without sending
#     the whole file again, and the clip's SHA-256 is the file's; a new
#     upload after the kill completes;
#   - at the end (the killed work node started again, then every node
#     stopped) no node's data folder holds anything but its kindling.conf
#     and temporary files: no media, no uploads, no catalogue.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/cluster.sh
#
# Needs PostgreSQL (Debian's postgresql: tests/pg_cluster.sh starts a
# throwaway cluster), nginx (Debian's nginx-light; NGINX=/path overrides),
# node with s3rver and tus-js-client (make deps-test), ffmpeg, ffprobe,
# perl (it opens nginx's listening socket on a free port, as kindling and
# s3rver choose theirs, and hands it to nginx).
# Last line: "cluster: N passed, N failed".

# shellcheck disable=SC2034,SC2119,SC2153,SC2317  # DATA, URL, SERVER_PID...: lib.sh's; helpers run through wait_until and the trap
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/node_tools.sh"
NGINX=${NGINX:-/usr/sbin/nginx}
# (this suite is on PostgreSQL by nature: it makes its own cluster)
unset KINDLING_IT_PG
begin_suite cluster node ffmpeg ffprobe psql perl cmp sha256sum pgrep "$NGINX"

node_tools_check cluster s3rver tus-js-client >"$WORK/node.txt" 2>&1 ||
	fatal "s3rver and tus-js-client run on this Node" "$(cat "$WORK/node.txt")"

# The EXIT trap: lib.sh's cleanup (every process stopped), then the
# PostgreSQL cluster (not in WORK: as root its folder is the postgres
# user's, who cannot enter WORK).
PG_DIR=""
cluster_cleanup() {
	if [ -n "${KINDLING_IT_KEEP:-}" ] && [ -n "${PG_URL:-}" ] && [ -d "$WORK" ]; then
		for t in jobs uploads clips; do
			echo "== $t"
			psql -X -q -d "$PG_URL" -c "SELECT * FROM $t ORDER BY 1" 2>&1 | cut -c1-300
		done >"$WORK/pg-tables.txt"
	fi
	cleanup
	[ -n "$PG_DIR" ] && bash "$ROOT/tests/pg_cluster.sh" stop "$PG_DIR"
} 2>/dev/null
trap cluster_cleanup EXIT

# ------------------------------------------------------------ 1. shared services
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kindling-it-cluster-pg.XXXXXX") ||
	fatal "a folder for PostgreSQL" "mktemp failed"
PG_URL=$(bash "$ROOT/tests/pg_cluster.sh" start "$PG_DIR" 2>"$WORK/pg.err") ||
	fatal "a PostgreSQL cluster starts" "$(tail -c 400 "$WORK/pg.err")"
check_match "PostgreSQL answers at $PG_URL" '^1$' \
	"$(psql -X -A -t -d "$PG_URL" -c 'SELECT 1' 2>&1)"
# pq SQL: one statement on the shared catalogue, rows as a|b.
pq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URL" -c "$1" 2>>"$WORK/psql.err"; }

mkdir -p "$WORK/s3"
node "$HERE/s3rver.mjs" "$WORK/s3" kindling-media >"$WORK/s3rver.log" 2>&1 &
SERVER_PIDS+=("$!")
wait_until 30 grep -q '^s3rver: http' "$WORK/s3rver.log" ||
	fatal "s3rver starts on a free loopback port" "$(tail -c 400 "$WORK/s3rver.log")"
S3_URL=$(sed -n 's/^s3rver: //p' "$WORK/s3rver.log")
SERVER_LOGS+=("$WORK/s3rver.log")   # (their tails are shown when a check failed)
ok "s3rver listens at $S3_URL"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN
# what s3rver keeps of an object: <dir>/<bucket>/<key>._S3rver_object
object() { echo "$WORK/s3/kindling-media/district/$1._S3rver_object"; }

# One kindling.conf for every node; each node has a folder of its own.
cat >"$WORK/kindling.conf" <<EOF
database = $PG_URL
storage = s3://kindling-media/district
s3_endpoint = $S3_URL
workers = 1
job_lease_seconds = 4
trusted_proxies = 127.0.0.1
EOF
for n in web-1 web-2 work-1 work-2; do
	mkdir -p "$WORK/$n"
	cp "$WORK/kindling.conf" "$WORK/$n/kindling.conf"
done
D1=$WORK/web-1
DATA=$D1   # where add_user and the admin commands run

M=$WORK/media
mkdir -p "$M"
# a few MB, played as it is (H.264 + AAC: processing remuxes it)
ff -f lavfi -i testsrc2=size=640x360:rate=25:duration=4 -f lavfi -i sine=frequency=440:duration=4 \
	-c:v libx264 -preset ultrafast -b:v 6M -pix_fmt yuv420p -c:a aac -shortest "$M/lesson.mp4"
ff -f lavfi -i testsrc2=size=640x360:rate=25:duration=3 -c:v libx264 -preset ultrafast -b:v 6M \
	-pix_fmt yuv420p "$M/after.mp4"
# 27, 31 and 37 MB (noise does not compress): uploads of several 8 MiB parts
for i in 1 2 3; do
	ff -f lavfi -i "testsrc2=size=640x360:rate=25:duration=$((7 + i))" \
		-vf "noise=alls=$((50 + 10 * i)):allf=t" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
		"$M/big$i.mp4"
done
# a transcode of a few seconds, long enough to kill a node in the middle
ff -f lavfi -i testsrc2=size=1920x1080:rate=25:duration=15 -c:v mpeg4 -q:v 4 "$M/long.avi"
for f in lesson after big1 big2 big3; do
	[ -s "$M/$f.mp4" ] || fatal "ffmpeg makes the test videos" "$f.mp4 is missing"
done
check "the large files are over 20 MB" test "$(stat -c %s "$M/big1.mp4")" -gt 20000000

# ------------------------------------------------------------ 2. the nodes
# web NAME: `serve --no-processing` on NAME's folder and a free port.
declare -A PID LOG PORT_OF
web() {
	KINDLING_NODE=$1 start_server_with --data "$WORK/$1" --listen 127.0.0.1:0 --no-processing ||
		fatal "web node $1 starts" "$(log_tail)"
	PID[$1]=$SERVER_PID
	LOG[$1]=$SERVER_LOG
	PORT_OF[$1]=$PORT
}
# work NAME: `kindling work` on NAME's folder.
WORK_STARTS=0
work() {
	WORK_STARTS=$((WORK_STARTS + 1))
	local log=$WORK/$1.$WORK_STARTS.log
	KINDLING_NODE=$1 "$BIN" work --data "$WORK/$1" >"$log" 2>&1 &
	PID[$1]=$!
	LOG[$1]=$log
	SERVER_PIDS+=("$!")
	SERVER_LOGS+=("$log")
	wait_until 30 grep -qs "^kindling: node $1 processing" "$log" ||
		fatal "work node $1 starts" "$(tail -c 400 "$log")"
}

"$BIN" school add north-high "North High" --data "$D1" >/dev/null 2>"$WORK/school.err" ||
	fatal "a school is added on web-1's folder" "$(cat "$WORK/school.err")"

web web-1
web web-2
check_match "web-1 says it processes nothing" 'processing nothing' "$(cat "${LOG[web-1]}")"
check_match "web-2 says it processes nothing" 'processing nothing' "$(cat "${LOG[web-2]}")"
check_match "web-1 names the bucket" 's3://kindling-media/district' "$(cat "${LOG[web-1]}")"
work work-1
work work-2
ok "work nodes work-1 and work-2 are up"

# nginx on a port the kernel picks: perl binds 127.0.0.1:0, writes the
# port into nginx's config and execs nginx, which takes the socket over as
# it does from an old binary on an upgrade (the NGINX variable).
NGX=$WORK/nginx
mkdir -p "$NGX/tmp"
USER_LINE=""
[ "$(id -u)" -eq 0 ] && USER_LINE="user $(id -un) $(id -gn);"   # else workers are nobody
cat >"$NGX/nginx.conf.in" <<EOF
$USER_LINE
daemon off;
master_process on;
worker_processes 1;   # one worker: one round-robin turn for every request
pid $NGX/nginx.pid;
error_log $NGX/error.log notice;
events { worker_connections 256; }
http {
    log_format lb '\$remote_addr "\$request" \$status upstream=\$upstream_addr \$upstream_status';
    access_log $NGX/access.log lb;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    upstream kindling {
        server 127.0.0.1:${PORT_OF[web-1]} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:${PORT_OF[web-2]} max_fails=1 fail_timeout=30s;
    }
    server {
        listen 127.0.0.1:@PORT@;
        client_max_body_size 0;
        location / {
            proxy_pass http://kindling;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 5s;
            proxy_send_timeout 120s;
            proxy_read_timeout 120s;
        }
    }
}
EOF
# shellcheck disable=SC2016  # perl
perl -e '
	use strict; use Socket; use Fcntl;
	my ($in, $out, @cmd) = @ARGV;
	socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
	setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1) or die "setsockopt: $!\n";
	bind($s, pack_sockaddr_in(0, inet_aton("127.0.0.1"))) or die "bind: $!\n";
	listen($s, 511) or die "listen: $!\n";
	my ($port) = unpack_sockaddr_in(getsockname($s));
	fcntl($s, F_SETFD, 0) or die "fcntl: $!\n";   # kept across the exec
	open(my $i, "<", $in) or die "$in: $!\n";
	my $conf = do { local $/; <$i> };
	$conf =~ s/\@PORT\@/$port/g;
	open(my $o, ">", $out) or die "$out: $!\n";
	print $o $conf;
	close($o) or die "$out: $!\n";
	$ENV{NGINX} = fileno($s) . ";";
	$| = 1;
	print "nginx: http://127.0.0.1:$port\n";
	exec(@cmd) or die "exec: $!\n";
' "$NGX/nginx.conf.in" "$NGX/nginx.conf" \
	"$NGINX" -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" >"$NGX/stdout" 2>&1 &
NGX_PID=$!
SERVER_PIDS+=("$NGX_PID")
SERVER_LOGS+=("$NGX/error.log")
wait_until 10 grep -q '^nginx: http' "$NGX/stdout" ||
	fatal "a free port for nginx" "$(cat "$NGX/stdout")"
NG=$(sed -n 's/^nginx: //p' "$NGX/stdout")
nginx_up() { [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$NG/healthz")" == 200 ]; }
wait_until 30 nginx_up ||
	fatal "nginx starts in front of the web nodes" "$(cat "$NGX/stdout" "$NGX/error.log" 2>/dev/null | tail -n 5)"
ok "nginx balances $NG over web-1 (:${PORT_OF[web-1]}) and web-2 (:${PORT_OF[web-2]})"

# at URL
at() {
	local URL=$1
	shift
	"$@"
}
for n in web-1 web-2; do
	at "http://127.0.0.1:${PORT_OF[$n]}" req GET /healthz ""
	check_eq "$n answers /healthz" "200 ok" "$STATUS $(jb .status)"
done
for ((i = 0; i < 4; i++)); do at "$NG" req GET /healthz ""; done
check_eq "through nginx too" "200 ok" "$STATUS $(jb .status)"
health_on() { grep -c '"GET /healthz"' "${LOG[$1]}"; }
check "nginx sends requests to both web nodes" test "$(health_on web-1)" -ge 2 -a "$(health_on web-2)" -ge 2

# ------------------------------------------------------------ 3. accounts
ADMIN=$(add_user it-admin admin)
COACH=$(add_user coach-north coach north-high)
TEACH=$(add_user teach-north teacher north-high)
for t in "$ADMIN" "$COACH" "$TEACH"; do
	[[ $t =~ ^kd_[0-9]+_[A-Za-z0-9_-]{20,}$ ]] || fatal "user add on web-1's folder prints a token" "got '$t'"
done
check_eq "the accounts are rows of PostgreSQL" 3 "$(pq "SELECT count(*) FROM users")"
check "web-1's folder has no catalogue of its own" test ! -e "$D1/catalogue.db"
for n in web-1 web-2; do
	at "http://127.0.0.1:${PORT_OF[$n]}" req GET /api/v1/me "$TEACH"
	check_eq "$n knows the teacher made on web-1's folder" "200 teacher" "$STATUS $(jb .role)"
done

# ------------------------------------------------------------ 4. uploads through nginx
# up ARGS...: `kindling upload` through nginx as the coach (--json).
up() {
	run_cli upload --server "$NG" --token "$COACH" --school north-high --practice station-rotation \
		--json "$@"
}
# said: the last upload's error ("null": none), and its stderr if it failed.
said() {
	local e
	e=$(jq -r .error <<<"$OUT" 2>/dev/null)
	[ -n "$e" ] || e="no JSON"
	if [ "$e" == null ]; then echo null; else echo "$e; stderr: $(tr '\r' '\n' <<<"$ERR" | tail -n 3)"; fi
}
# up_bg OUT ARGS...: the same in the background; its pid in CLI.
up_bg() {
	local out=$1
	shift
	"$BIN" upload --server "$NG" --token "$COACH" --school north-high --practice station-rotation \
		--json "$@" >"$out" 2>"$out.err" &
	CLI=$!
}
status_of() { at "$NG" req GET "/api/v1/clips/$1" "$COACH"; jb .status; }
is_ready() { [ "$(status_of "$1")" == ready ]; }
job_of() {
	pq "SELECT state || ' ' || coalesce(node, '-') || ' ' || attempts FROM jobs WHERE clip_id = $1 ORDER BY id DESC LIMIT 1"
}
# the newest unfinished upload: "ID RECEIVED HELD" (HELD: t while a transfer
# holds it, f once the node that had it recorded what arrived and let go)
open_upload() {
	pq "SELECT id || ' ' || received || ' ' || CASE WHEN busy_until IS NULL THEN 'f' ELSE 't' END
	    FROM uploads WHERE done = 0 ORDER BY created_at DESC LIMIT 1"
}
received_at_least() { local u; u=$(open_upload); [ -n "$u" ] && [ "$(cut -d' ' -f2 <<<"$u")" -ge "$1" ]; }
let_go() { local u; u=$(open_upload); [ -n "$u" ] && [ "${u##* }" == f ]; }
patches_on() { grep -c "\"PATCH /api/v1/uploads/$2\"" "${LOG[$1]}"; }
SIZE_BIG1=$(stat -c %s "$M/big1.mp4")

up "$M/lesson.mp4"
check_eq "a coach uploads a small clip through nginx: exit 0" "0 null" "$RC $(said)"
LESSON=$(jq -r .id <<<"$OUT" 2>/dev/null)
check_match "it has an id" '^[0-9]+$' "$LESSON"

# The large one: the CLI (which sends the rest of a file in one PATCH) is
# killed once a part is stored, and run again: it resumes through nginx,
# whose round robin gives the second PATCH to the other node.
up_bg "$WORK/big1.first.json" --limit-rate 8000000 "$M/big1.mp4"
wait_until 60 received_at_least $((8 << 20))
UP1=$(open_upload | cut -d' ' -f1)
check_match "the large upload is under way, a part stored" '^[0-9a-f]+ [0-9]+ ' "$(open_upload)"
{ kill -KILL "$CLI"; wait "$CLI"; } 2>/dev/null   # (no "Killed" from bash)
wait_until 30 let_go
HAD=$(open_upload | cut -d' ' -f2)
check "the node that had it recorded what arrived ($HAD bytes) and let it go" let_go
up "$M/big1.mp4"
check_eq "the CLI run again finishes the large upload: exit 0" "0 null" "$RC $(said)"
BIG1=$(jq -r .id <<<"$OUT" 2>/dev/null)
check_match "it has an id" '^[0-9]+$' "$BIG1"
SENT=$(jq -r .sent_bytes <<<"$OUT" 2>/dev/null)
check "it resumed: it sent only what the server lacked ($SENT of $SIZE_BIG1 bytes)" \
	test "${SENT:-0}" -gt 0 -a "$((SENT + HAD))" -eq "$SIZE_BIG1"
check "the upload's PATCHes reached web-1 ($(patches_on web-1 "$UP1")) and web-2 ($(patches_on web-2 "$UP1"))" \
	test "$(patches_on web-1 "$UP1")" -ge 1 -a "$(patches_on web-2 "$UP1")" -ge 1
check_eq "the upload's row says done, with its clip" "1 $BIG1" \
	"$(pq "SELECT done || ' ' || clip_id FROM uploads WHERE id = '$UP1'")"

# tus-js-client in 3 MiB chunks: one upload, ten PATCHes, each node some.
CHUNK=$((3 << 20))
SIZE_BIG2=$(stat -c %s "$M/big2.mp4")
CHUNKS=$(((SIZE_BIG2 + CHUNK - 1) / CHUNK))
out=$(node "$HERE/tus_client.mjs" "$NG/api/v1/uploads" "$COACH" "$M/big2.mp4" north-high \
	station-rotation "$CHUNK" 2>&1)
BIG2=$(jq -r .clip <<<"$out" 2>/dev/null)
UP2=$(jq -r .url <<<"$out" 2>/dev/null)
UP2=${UP2##*/}
check_match "tus-js-client uploads it in 3 MiB chunks through nginx: $CHUNKS PATCHes" "^[0-9]+ $CHUNKS\$" \
	"$BIG2 $(jq -r .patches <<<"$out" 2>/dev/null)"
check "its PATCHes alternate between the nodes (web-1 $(patches_on web-1 "$UP2"), web-2 $(patches_on web-2 "$UP2"))" \
	test "$(patches_on web-1 "$UP2")" -ge 4 -a "$(patches_on web-2 "$UP2")" -ge 4

for c in "$LESSON" "$BIG1" "$BIG2"; do wait_until 90 is_ready "$c"; done
check_eq "the three clips end ready (asked through nginx)" "ready ready ready" \
	"$(status_of "$LESSON") $(status_of "$BIG1") $(status_of "$BIG2")"
nodes_done=""
for c in "$LESSON" "$BIG1" "$BIG2"; do nodes_done="$nodes_done $(job_of "$c")"; done
check_match "each was processed by a work node" '^( done work-[12] 1){3}$' "$nodes_done"
check_none "the web nodes started no worker" "$(grep -h 'worker .* started' "${LOG[web-1]}" "${LOG[web-2]}")"
check "the large clip's original in the bucket is the file" cmp -s "$M/big1.mp4" "$(object "$BIG1/original")"
check "and the one sent in chunks" cmp -s "$M/big2.mp4" "$(object "$BIG2/original")"
at "$NG" req GET "/api/v1/clips/$BIG1" "$COACH"
check_eq "the clip's SHA-256 is the file's" "$(sha256sum <"$M/big1.mp4" | cut -d' ' -f1)" "$(jb .sha256)"
check_eq "no upload is left open" 0 "$(pq "SELECT count(*) FROM uploads WHERE done = 0")"

# ------------------------------------------------------------ 5. watching
at "$NG" req GET "/media/clips/$LESSON/video.mp4" "$TEACH"
check_eq "a teacher asking nginx for the video: 302" 302 "$STATUS"
LOC=$(header Location)
check_match "to a presigned URL of the object at s3rver" \
	"^$S3_URL/kindling-media/district/$LESSON/video.mp4\\?X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Signature=[0-9a-f]{64}" "$LOC"
check_match "kept by no cache" 'no-store' "$(header Cache-Control)"
curl -s -o "$WORK/video.mp4" "$LOC"
check "the bytes behind it are the object in the bucket" \
	cmp -s "$WORK/video.mp4" "$(object "$LESSON/video.mp4")"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$LOC" 2>&1)
check_match "ffprobe reads the video through the link" '^(3\.9|4\.0)' "$dur"
for n in web-1 web-2; do
	at "http://127.0.0.1:${PORT_OF[$n]}" req GET "/media/clips/$LESSON/video.mp4" "$TEACH"
	check_eq "$n asked directly: the same redirect" "302 ${LOC%%\?*}" "$STATUS $(header Location | cut -d'?' -f1)"
	curl -s -o "$WORK/video.$n.mp4" "$(header Location)"
	check "and the same bytes" cmp -s "$WORK/video.$n.mp4" "$WORK/video.mp4"
done

# ------------------------------------------------------------ 6. a work node killed mid-job
up "$M/long.avi"
LONG=$(jq -r .id <<<"$OUT" 2>/dev/null)
check_match "a longer clip is uploaded" '^[0-9]+$' "$LONG"
running() { [[ $(job_of "$LONG") =~ ^running\ (work-[12])\ 1$ ]]; }
wait_until 60 running
JOB=$(job_of "$LONG")
check_match "a work node holds its job" '^running work-[12] 1$' "$JOB"
VICTIM=$(cut -d' ' -f2 <<<"$JOB")
[ "$VICTIM" == work-1 ] && SURVIVOR=work-2 || SURVIVOR=work-1
ZYGOTE="" WORKER=""
has_worker() {
	ZYGOTE=$(pgrep -P "${PID[$VICTIM]}" -f -- '--zygote' | head -n 1)
	[ -n "$ZYGOTE" ] && WORKER=$(pgrep -P "$ZYGOTE" | head -n 1) && [ -n "$WORKER" ]
}
wait_until 30 has_worker
check_match "$VICTIM's zygote has a worker on it" '^[0-9]+ [0-9]+$' "$ZYGOTE $WORKER"
kill_server "${PID[$VICTIM]}"
check_eq "$VICTIM is killed -9 in the middle of it" processing \
	"$(pq "SELECT status FROM clips WHERE id = $LONG")"
gone() { [ -n "$ZYGOTE" ] && [ -n "$WORKER" ] && ! kill -0 "$ZYGOTE" 2>/dev/null && ! kill -0 "$WORKER" 2>/dev/null; }
wait_until 10 gone
check "its zygote and worker die with it" gone
wait_until 120 is_ready "$LONG"
check_eq "the clip ends ready" ready "$(status_of "$LONG")"
check_eq "finished by $SURVIVOR, on a second attempt" "done $SURVIVOR 2" "$(job_of "$LONG")"
check_match "$SURVIVOR's log says it took the job over" 'interrupted' "$(cat "${LOG[$SURVIVOR]}")"
at "$NG" req GET "/media/clips/$LONG/video.mp4" "$TEACH"
check_eq "and the teacher gets its video" 302 "$STATUS"

# ------------------------------------------------------------ 7. a web node killed
# An upload begun, the CLI killed: the node that took the bytes keeps what
# arrived (in the bucket and the row) and lets the upload go; then it is
# killed -9.
up_bg "$WORK/big3.first.json" --limit-rate 8000000 "$M/big3.mp4"
wait_until 60 received_at_least $((8 << 20))
UP3=$(open_upload | cut -d' ' -f1)
{ kill -KILL "$CLI"; wait "$CLI"; } 2>/dev/null   # (no "Killed" from bash)
# (nginx logs a request whose client left mid-body as 400)
patch_logged() { grep -q "\"PATCH /api/v1/uploads/$UP3 HTTP/1.1\" [0-9]* upstream=" "$NGX/access.log"; }
wait_until 10 patch_logged
TOOK=$(grep "\"PATCH /api/v1/uploads/$UP3 HTTP/1.1\" [0-9]* upstream=" "$NGX/access.log" | tail -n 1 |
	sed -n 's/.*upstream=127\.0\.0\.1:\([0-9]*\).*/\1/p')
if [ "$TOOK" == "${PORT_OF[web-1]}" ]; then DEAD=web-1 LIVE=web-2; else DEAD=web-2 LIVE=web-1; fi
check_match "nginx says which node took the PATCH" "^(${PORT_OF[web-1]}|${PORT_OF[web-2]})$" "$TOOK"
wait_until 30 let_go
HAD=$(open_upload | cut -d' ' -f2)
check "$DEAD recorded what it got ($HAD bytes) and let the upload go" let_go
kill_server "${PID[$DEAD]}"
dead() { ! kill -0 "$1" 2>/dev/null; }
check "$DEAD is killed -9" dead "${PID[$DEAD]}"
codes=""
for ((i = 0; i < 6; i++)); do
	at "$NG" req GET "/api/v1/clips?per_page=5" "$TEACH"
	codes="$codes $STATUS"
done
check_eq "nginx goes on answering: six lists in a row" " 200 200 200 200 200 200" "$codes"
tries_dead=$(tail -n 6 "$NGX/access.log" | grep -c "127.0.0.1:${PORT_OF[$DEAD]}")
check "the dead node was tried at most once ($tries_dead), then passed over" test "$tries_dead" -le 1
check_match "nginx's error log says it could not reach $DEAD" \
	"connect\(\) failed .* upstream: \"http://127\.0\.0\.1:${PORT_OF[$DEAD]}/" "$(cat "$NGX/error.log")"
check_match "and marks it down" \
	"upstream server temporarily disabled .* upstream: \"http://127\.0\.0\.1:${PORT_OF[$DEAD]}/" "$(cat "$NGX/error.log")"

up "$M/big3.mp4"
check_eq "the CLI run again finishes the upload begun on $DEAD: exit 0" "0 null" "$RC $(said)"
BIG3=$(jq -r .id <<<"$OUT" 2>/dev/null)
SENT=$(jq -r .sent_bytes <<<"$OUT" 2>/dev/null)
SIZE_BIG3=$(stat -c %s "$M/big3.mp4")
check "it resumed: $SENT of $SIZE_BIG3 bytes sent again ($HAD were in)" \
	test "${SENT:-0}" -gt 0 -a "$((SENT + HAD))" -eq "$SIZE_BIG3"
check "on $LIVE" test "$(patches_on "$LIVE" "$UP3")" -ge 1
wait_until 90 is_ready "$BIG3"
check_eq "the clip ends ready" ready "$(status_of "$BIG3")"
at "$NG" req GET "/api/v1/clips/$BIG3" "$COACH"
check_eq "its SHA-256 is the file's" "$(sha256sum <"$M/big3.mp4" | cut -d' ' -f1)" "$(jb .sha256)"
check "its original in the bucket is the file" cmp -s "$M/big3.mp4" "$(object "$BIG3/original")"

up --wait "$M/after.mp4"
check_eq "a new upload through nginx after the kill completes (--wait: ready)" "0 ready null" \
	"$RC $(jq -r .status <<<"$OUT" 2>/dev/null) $(said)"

# ------------------------------------------------------------ 8. nothing on the nodes' disks
# The killed work node started again, as after a crash; then every node
# stopped.
work "$VICTIM"
for n in "$LIVE" work-1 work-2; do
	stop_server "${PID[$n]}"
	check_eq "$n stops cleanly on SIGTERM" 0 "$STOP_RC"
done
stop_server "$NGX_PID"
for n in web-1 web-2 work-1 work-2; do
	files=$(cd "$WORK/$n" && find . -type f | sed 's#^\./##' | sort)
	echo "# $n's folder: $(tr '\n' ' ' <<<"$files")"
	check_none "$n's folder holds only its kindling.conf and temporary files" \
		"$(grep -v -e '^kindling\.conf$' -e '^tmp/' <<<"$files" | sed 's/^/ /' | head -n 20 | tr -d '\n')"
done
check_server_log
finish
