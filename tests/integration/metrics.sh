#!/usr/bin/env bash
# tests/integration/metrics.sh - what an admin watches (issue 14): GET
# /metrics in Prometheus' text format, for admins and for a scraper with the
# metrics_token, read back with a real parser (python3-prometheus-client, the
# Prometheus project's Python client, from Debian) and checked line by line
# against the 0.0.4 format; the counters moving for the right route pattern
# and status (never the raw path); the catalogue's counts against SQL; upload
# bytes and processing seconds after an upload; and /healthz?deep=1: all
# well, a disk below its reserve, a node that does not process, a catalogue
# that stays locked (503, in words, without the askers piling up).
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/metrics.sh
#
# Needs curl, jq, the sqlite3 CLI, ffmpeg, base64, python3 with
# prometheus_client (Debian: python3-prometheus-client; make deps-test).
# Last line: "metrics: N passed, N failed".

# shellcheck disable=SC2016  # jq and Python in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite metrics sqlite3 ffmpeg base64
# Debian's python3, where Debian's python3-prometheus-client is (not a
# python3 of one's own found first on PATH)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	fatal "python3 can import prometheus_client" "install python3-prometheus-client (make deps-test)"

fixture_catalogue
METRICS_TOKEN=$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')
printf 'metrics_token = %s\n' "$METRICS_TOKEN" >"$DATA/kindling.conf"
start_server "$DATA" || fatal "the server starts with a metrics_token" "$(log_tail)"
ROUTES=$("$BIN" routes | awk '{print $2}' | sort -u)
[ -n "$ROUTES" ] || fatal "kindling routes lists the routes" "it printed nothing"
printf '%s\nother\n' "$ROUTES" >"$WORK/patterns"

# promcheck FILE: parse FILE with prometheus_client's parser and check it
# against the text format 0.0.4 (what that parser lets pass too); prints
# each problem, and writes FILE.samples: one line a sample, "NAME|k=v,k=v|VALUE"
# with the labels sorted, for mval.
promcheck() {
	"$PY" - "$1" "$WORK/patterns" <<'PY'
import math, re, sys
from prometheus_client.parser import text_string_to_metric_families

path, patterns = sys.argv[1], set(open(sys.argv[2]).read().split())
text = open(path, encoding="utf-8").read()
problems = []
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]Inf)"
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (%s)$" % (NAME, LABEL, LABEL, VALUE))
META = re.compile(r"^# (HELP|TYPE) (%s)(?: (.*))?$" % NAME)
SUFFIXES = {"counter": [""], "gauge": [""], "summary": ["_sum", "_count", ""],
            "histogram": ["_bucket", "_sum", "_count"]}

if not text.endswith("\n"):
    problems.append("the text does not end with a newline")
if "\r" in text:
    problems.append("a carriage return")
types, helps, done, series = {}, {}, set(), {}
family = None
def unescape(v):
    return re.sub(r'\\([\\"n])', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)
for n, line in enumerate(text.split("\n")[:-1], 1):
    m = META.match(line)
    if m:
        kind, name, rest = m.groups()
        if kind == "TYPE":
            if name in types:
                problems.append("line %d: a second TYPE for %s" % (n, name))
            if rest not in SUFFIXES:
                problems.append("line %d: type %r" % (n, rest))
            if name in done or (family and family != name and any(s[0] == name for s in series)):
                problems.append("line %d: TYPE of %s after its samples" % (n, name))
            types[name] = rest
        else:
            if name in helps:
                problems.append("line %d: a second HELP for %s" % (n, name))
            helps[name] = rest or ""
        if family and family != name:
            done.add(family)
        family = name
        continue
    m = SAMPLE.match(line)
    if not m:
        problems.append("line %d is neither HELP, TYPE nor a sample: %r" % (n, line[:120]))
        continue
    name, labels, value = m.groups()
    owner = None
    for fam, t in types.items():
        if any(name == fam + s for s in SUFFIXES[t]):
            owner = fam
    if owner is None:
        problems.append("line %d: %s has no TYPE before it" % (n, name))
        continue
    if owner != family or owner in done:
        problems.append("line %d: %s is apart from the rest of its family" % (n, name))
    pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or "")
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        problems.append("line %d: a label twice" % n)
    key = (name, tuple(sorted((k, unescape(v)) for k, v in pairs)))
    if key in series:
        problems.append("line %d: the series %s{%s} twice" % (n, name, labels))
    series[key] = float(value)
for fam, t in types.items():
    if fam not in helps:
        problems.append("%s has no HELP" % fam)
    if t == "counter" and not fam.endswith("_total"):
        problems.append("the counter %s does not end in _total" % fam)

# the route label: a pattern of the router, never a path someone asked
for (name, labels), v in series.items():
    for k, val in labels:
        if k == "route" and val not in patterns:
            problems.append("route label %r is not a route pattern" % val)
    if name.endswith("_total") and v < 0:
        problems.append("counter %s is negative" % name)
# histograms: buckets cumulative in le order, +Inf the count, a sum
for fam, t in types.items():
    if t != "histogram":
        continue
    groups = {}
    for (name, labels), v in series.items():
        if name == fam + "_bucket":
            rest = tuple(l for l in labels if l[0] != "le")
            le = dict(labels).get("le")
            groups.setdefault(rest, []).append((math.inf if le == "+Inf" else float(le), v))
    for rest, buckets in groups.items():
        buckets.sort()
        counts = [v for _, v in buckets]
        if counts != sorted(counts):
            problems.append("%s%s: buckets not cumulative" % (fam, dict(rest)))
        if not buckets or buckets[-1][0] != math.inf:
            problems.append("%s%s: no +Inf bucket" % (fam, dict(rest)))
        elif series.get((fam + "_count", rest)) != buckets[-1][1]:
            problems.append("%s%s: +Inf is not the count" % (fam, dict(rest)))
        if (fam + "_sum", rest) not in series:
            problems.append("%s%s: no sum" % (fam, dict(rest)))

# and the parser of the Prometheus project's Python client reads it whole,
# every family with the type it declared, every sample in its family
try:
    parsed = list(text_string_to_metric_families(text))
except Exception as e:
    parsed = []
    problems.append("prometheus_client cannot parse it: %s" % e)
got = {}
for f in parsed:
    base = f.name + "_total" if f.type == "counter" else f.name
    got[base] = f.type
    if f.type == "untyped":
        problems.append("prometheus_client read %s as untyped" % f.name)
    for s in f.samples:
        if math.isnan(s.value) and not s.name.endswith("_sum"):
            problems.append("%s is NaN" % s.name)
for fam, t in types.items():
    if got.get(fam) != t:
        problems.append("prometheus_client read %s as %s, not %s" % (fam, got.get(fam), t))
if len(parsed) != len(types):
    problems.append("prometheus_client found %d families, the text declares %d" % (len(parsed), len(types)))

with open(path + ".samples", "w") as out:
    for (name, labels), v in sorted(series.items()):
        out.write("%s|%s|%r\n" % (name, ",".join("%s=%s" % kv for kv in labels), v))
for p in problems[:10]:
    print(p)
sys.exit(1 if problems else 0)
PY
}

# scrape FILE [TOKEN]: GET /metrics (with the metrics_token unless TOKEN) into
# FILE, checked by promcheck; PROBLEMS says what promcheck found.
scrape() {
	req GET /metrics "${2:-$METRICS_TOKEN}"
	cp "$WORK/body" "$1"
	PROBLEMS=$(promcheck "$1" 2>&1)
}

# mval FILE 'NAME|LABELS': a sample's value (labels sorted: k=v,k=v), or
# "none" when the scrape has no such series.
mval() {
	local v
	v=$(grep -F -- "$2|" "$1.samples" 2>/dev/null | awk -F'|' -v k="$2" '$1 "|" $2 == k {print $3}')
	if [ -n "$v" ]; then printf '%.0f' "$v"; else echo none; fi
}

# atleast FILE 'NAME|LABELS' N: "yes" when the sample is there and at least N.
atleast() {
	local v
	v=$(mval "$1" "$2")
	if [ "$v" != none ] && [ "$v" -ge "$3" ]; then echo yes; else echo "no ($v)"; fi
}
REQS_METRICS='kindling_http_requests_total|method=GET,route=/metrics'

# ---------------------------------------------------------------- who may read it

req GET /metrics ""
check_match "no token: 401, WWW-Authenticate: Bearer" '^401 Bearer' "$STATUS $(header WWW-Authenticate)"
req GET /metrics "$TEACH_N"
check_status "a teacher's token: 403" 403
req GET /metrics "$PRINC_N"
check_status "a principal's token: 403" 403
req GET /metrics "${METRICS_TOKEN}x"
check_status "the metrics_token with a character more: 401" 401
req GET /metrics "${METRICS_TOKEN%?}"
check_status "the metrics_token with a character less: 401" 401
req GET /api/v1/me "$METRICS_TOKEN"
check_status "the metrics_token opens /metrics only (GET /api/v1/me: 401)" 401
req GET /api/v1/clips "$METRICS_TOKEN"
check_status "the metrics_token lists no clips (401)" 401

scrape "$WORK/admin.txt" "$ADMIN"
check_eq "an admin's token: 200, text/plain; version=0.0.4; charset=utf-8" \
	"200 text/plain; version=0.0.4; charset=utf-8" "$STATUS $(header Content-Type)"
check_none "the admin's scrape parses (prometheus_client) and keeps to the format" "$PROBLEMS"
scrape "$WORK/m0.txt"
check_status "the metrics_token as bearer token: 200" 200
check_none "the scraper's scrape parses and keeps to the format" "$PROBLEMS"
req GET /metrics "" -H "Authorization: bearer $METRICS_TOKEN"
check_status "the scheme 'bearer' is case-insensitive for the metrics_token too" 200

# ---------------------------------------------------------------- requests

K_OK='kindling_http_requests_total|method=GET,route=/api/v1/clips/{id},status=200'
K_404='kindling_http_requests_total|method=GET,route=/api/v1/clips/{id},status=404'
K_OTHER404='kindling_http_requests_total|route=other,status=404'
K_OTHER405='kindling_http_requests_total|route=other,status=405'
K_COUNT='kindling_http_request_duration_seconds_count|method=GET,route=/api/v1/clips/{id}'
K_INF='kindling_http_request_duration_seconds_bucket|le=+Inf,method=GET,route=/api/v1/clips/{id}'
before_ok=$(mval "$WORK/m0.txt" "$K_OK")
before_404=$(mval "$WORK/m0.txt" "$K_404")
before_o404=$(mval "$WORK/m0.txt" "$K_OTHER404")
before_o405=$(mval "$WORK/m0.txt" "$K_OTHER405")
before_count=$(mval "$WORK/m0.txt" "$K_COUNT")
for v in before_ok before_404 before_o404 before_o405 before_count; do
	[ "${!v}" == none ] && printf -v "$v" 0
done
for _ in 1 2 3 4 5; do req GET /api/v1/clips/901 "$TEACH_N"; done
for _ in 1 2 3; do req GET /api/v1/clips/987654 "$TEACH_N"; done
req GET /no/such/path/4242 "$TEACH_N"
req GET /api/v1/nothing-here-4242 "$TEACH_N"
req POST /api/v1/schools "$TEACH_N"
# A request is counted as it ends, a moment after its client has the
# answer: scrape until the last one is in.
moved() {
	scrape "$WORK/m1.txt"
	[ "$(mval "$WORK/m1.txt" "$K_OTHER405")" == $((before_o405 + 1)) ] &&
		[ "$(mval "$WORK/m1.txt" "$K_COUNT")" == $((before_count + 8)) ]
}
wait_until 5 moved
check_none "the scrape after the requests parses and keeps to the format" "$PROBLEMS"
check_eq "5 GET /api/v1/clips/901 -> route /api/v1/clips/{id}, status 200, +5" \
	$((before_ok + 5)) "$(mval "$WORK/m1.txt" "$K_OK")"
check_eq "3 GET /api/v1/clips/987654 -> the same route, status 404, +3" \
	$((before_404 + 3)) "$(mval "$WORK/m1.txt" "$K_404")"
check_eq "2 paths no route has -> route other, status 404, +2" \
	$((before_o404 + 2)) "$(mval "$WORK/m1.txt" "$K_OTHER404")"
check_eq "POST /api/v1/schools (405) -> route other, +1" \
	$((before_o405 + 1)) "$(mval "$WORK/m1.txt" "$K_OTHER405")"
check_eq "the route's latency histogram counted the 8, +Inf as many" \
	"$((before_count + 8)) $((before_count + 8))" \
	"$(mval "$WORK/m1.txt" "$K_COUNT") $(mval "$WORK/m1.txt" "$K_INF")"
check_none "no label holds a path that was asked (987654, 4242, 901)" \
	"$(grep -E '987654|4242|clips/901' "$WORK/m1.txt" | head -n 3)"
check_eq "the scrapes themselves are counted (/metrics, GET, 200)" yes \
	"$(atleast "$WORK/m1.txt" "$REQS_METRICS,status=200" 2)"
check_eq "the refused scrapes too (/metrics, GET, 401 and 403)" "yes yes" \
	"$(atleast "$WORK/m1.txt" "$REQS_METRICS,status=401" 3) $(atleast "$WORK/m1.txt" "$REQS_METRICS,status=403" 2)"

# ---------------------------------------------------------------- the catalogue

bad=""
for s in queued processing ready failed; do
	want=$(sql "SELECT COUNT(*) FROM clips WHERE status = '$s'")
	got=$(mval "$WORK/m1.txt" "kindling_clips|status=$s")
	[ "$got" == "$want" ] || bad+=" clips $s: $got, SQL $want;"
done
for r in admin coach principal teacher; do
	want=$(sql "SELECT COUNT(*) FROM users WHERE role = '$r' AND disabled = 0")
	got=$(mval "$WORK/m1.txt" "kindling_users|role=$r")
	[ "$got" == "$want" ] || bad+=" users $r: $got, SQL $want;"
done
for s in queued running failed; do
	want=$(sql "SELECT COUNT(*) FROM jobs WHERE state = '$s'")
	got=$(mval "$WORK/m1.txt" "kindling_jobs|state=$s")
	[ "$got" == "$want" ] || bad+=" jobs $s: $got, SQL $want;"
done
for t in schools practices; do
	want=$(sql "SELECT COUNT(*) FROM $t")
	got=$(mval "$WORK/m1.txt" "kindling_$t|")
	[ "$got" == "$want" ] || bad+=" $t: $got, SQL $want;"
done
check_none "clips by status, people by role, jobs by state, schools, practices: as SQL counts them" "$bad"
check_eq "the fixture's running job shows (kindling_jobs running >= 1)" yes \
	"$(atleast "$WORK/m1.txt" 'kindling_jobs|state=running' 1)"
build='^kindling_build_info{schema="[0-9]+",database="(sqlite|postgresql)"} 1$'
check_eq "catalogue_up 1, build_info 1" "1 1" \
	"$(mval "$WORK/m1.txt" 'kindling_catalogue_up|') $(grep -Ec "$build" "$WORK/m1.txt")"
started=$(mval "$WORK/m1.txt" 'kindling_start_time_seconds|')
check_eq "start_time_seconds is this server's start (within 10 minutes of now)" yes \
	"$([ $(($(date +%s) - started)) -ge 0 ] && [ $(($(date +%s) - started)) -lt 600 ] && echo yes)"
check_eq "disk_reserve_bytes is disk_reserve_mb (1024 by default) in bytes" $((1024 * 1048576)) \
	"$(mval "$WORK/m1.txt" 'kindling_disk_reserve_bytes|')"
avail=$(df -B1 --output=avail "$DATA" | tail -n 1 | tr -d ' ')
near "disk_free_bytes is what df says of the data folder (within 1 GB)" \
	"$(mval "$WORK/m1.txt" 'kindling_disk_free_bytes|')" "$avail" 1000000000

# ---------------------------------------------------------------- an upload, processed

ff -f lavfi -i testsrc=size=160x120:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p "$WORK/up.mp4" ||
	fatal "ffmpeg makes a test clip" "see above"
SIZE=$(stat -c %s "$WORK/up.mp4")
b64() { printf '%s' "$1" | base64 -w0; }
TUS=(-H "Authorization: Bearer $COACH_N" -H "Tus-Resumable: 1.0.0")
uploaded_before=$(mval "$WORK/m1.txt" 'kindling_upload_received_bytes_total|')
runs_before=$(mval "$WORK/m1.txt" 'kindling_processing_seconds_count|')
loc=$(curl -s -i -X POST "${TUS[@]}" -H "Upload-Length: $SIZE" \
	-H "Upload-Metadata: filename $(b64 up.mp4),school $(b64 north-high),practices $(b64 differentiation)" \
	"$URL/api/v1/uploads" | tr -d '\r' | sed -n 's/^Location: //Ip')
[ -n "$loc" ] || fatal "a coach starts an upload" "no Location"
clip=$(curl -s -D - -o /dev/null -X PATCH "${TUS[@]}" -H "Upload-Offset: 0" \
	-H "Content-Type: application/offset+octet-stream" --data-binary "@$WORK/up.mp4" "$URL$loc" |
	tr -d '\r' | sed -n 's/^Kindling-Clip-Id: //Ip')
[ -n "$clip" ] || fatal "the upload becomes a clip" "no Kindling-Clip-Id"
processed() {
	scrape "$WORK/m2.txt"
	[ "$(mval "$WORK/m2.txt" 'kindling_processing_seconds_count|')" -gt "$runs_before" ] &&
		[ "$(sql "SELECT status FROM clips WHERE id = $clip")" == ready ]
}
wait_until 120 processed
check_eq "the upload's $SIZE bytes are counted (upload_received_bytes_total)" \
	$((uploaded_before + SIZE)) "$(mval "$WORK/m2.txt" 'kindling_upload_received_bytes_total|')"
check_eq "its processing is counted (processing_seconds_count +1, the clip ready)" \
	"$((runs_before + 1)) ready" \
	"$(mval "$WORK/m2.txt" 'kindling_processing_seconds_count|') $(sql "SELECT status FROM clips WHERE id = $clip")"
check_eq "and its seconds (processing_seconds_sum above 0)" yes \
	"$(awk -F'|' '$1 == "kindling_processing_seconds_sum" && $3 > 0 {print "yes"}' "$WORK/m2.txt.samples")"
check_none "the scrape after processing parses and keeps to the format" "$PROBLEMS"

# ---------------------------------------------------------------- /healthz

req GET /healthz ""
check_eq "GET /healthz stays open and plain: 200 {\"status\":\"ok\"}" '200 {"status":"ok"}' \
	"$STATUS $(jq -c . "$WORK/body")"
req GET "/healthz?deep=1" ""
check_eq "GET /healthz?deep=1, signed out: 200, status ok" "200 ok" "$STATUS $(jb .status)"
check_jq "deep: the catalogue writable, the disk above its reserve, processing alive" \
	'.checks.catalogue.ok and .checks.catalogue.detail == "writable" and .checks.disk.ok and
	 (.checks.disk.detail | test("GB free")) and .checks.processing.ok and
	 (.checks.processing.detail | startswith("alive"))'
req GET "/healthz?deep=2" ""
check_status "deep=2: 400" 400
check_server_log

stop_server

# A disk below the reserve, on a node that does not process.
printf 'metrics_token = %s\ndisk_reserve_mb = 1073741824\n' "$METRICS_TOKEN" >"$DATA/kindling.conf"
start_server_with --data "$DATA" --listen 127.0.0.1:0 --no-processing ||
	fatal "the server starts with disk_reserve_mb above the disk" "$(log_tail)"
req GET "/healthz?deep=1" ""
check_eq "a disk with less free than disk_reserve_mb: 503, status failing" "503 failing" \
	"$STATUS $(jb .status)"
check_jq "the disk check fails and says what to do; the catalogue is still writable" \
	'(.checks.disk.ok | not) and (.checks.disk.detail | test("disk_reserve_mb")) and
	 (.checks.disk.detail | test("free space")) and .checks.catalogue.ok'
check_jq "processing: not on this node (serve --no-processing), not a failure" \
	'.checks.processing.ok and (.checks.processing.detail | startswith("not on this node"))'
req GET /healthz ""
check_status "the plain /healthz is still 200" 200
scrape "$WORK/m3.txt"
check_eq "metrics: the reserve as set, no processing on this node" \
	"$((1073741824 * 1048576)) 0" \
	"$(mval "$WORK/m3.txt" 'kindling_disk_reserve_bytes|') $(mval "$WORK/m3.txt" 'kindling_processing_seconds_count|')"
check_none "that scrape parses and keeps to the format" "$PROBLEMS"
stop_server

# Without the setting, only admins.
rm -f "$DATA/kindling.conf"
start_server "$DATA" || fatal "the server starts without kindling.conf" "$(log_tail)"
req GET /metrics "$METRICS_TOKEN"
check_status "no metrics_token set: the old token is refused (401)" 401
req GET /metrics "$ADMIN"
check_status "no metrics_token set: an admin still reads it" 200

# A catalogue that stays locked: the check fails in words after SQLite's
# busy timeout (PostgreSQL waits for its write lock as every writer does),
# and those who ask meanwhile are answered at once, not queued behind it.
if ! on_postgres; then
	"$PY" - "$DB" >"$WORK/lock.out" 2>&1 <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(8)
c.execute("ROLLBACK")
PY
	locker=$!
	wait_until 10 grep -q locked "$WORK/lock.out" || fatal "python3 holds the catalogue's write lock" "$(cat "$WORK/lock.out")"
	# (this server's first deep check: nothing kept to answer with)
	curl -s -o "$WORK/deep1" -w '%{http_code}' "$URL/healthz?deep=1" >"$WORK/deep1.status" &
	asker=$!
	sleep 0.5 # (the one fixed wait: for that request to reach the server first)
	t0=$(date +%s%N)
	req GET "/healthz?deep=1" ""
	t1=$(date +%s%N)
	check_eq "asked while a check waits for the lock: answered at once (under 2 s)" yes \
		"$([ $(((t1 - t0) / 1000000)) -lt 2000 ] && echo yes)"
	check_jq "and told that a check is under way" \
		'(.checks.catalogue.ok | not) and (.checks.catalogue.detail | startswith("being checked"))'
	wait "$asker"
	check_eq "the check behind the lock: 503, status failing" "503 failing" \
		"$(cat "$WORK/deep1.status") $(jq -r .status "$WORK/deep1")"
	cp "$WORK/deep1" "$WORK/body"
	check_jq "it says the catalogue stayed locked, and what to look for" \
		'(.checks.catalogue.ok | not) and (.checks.catalogue.detail | test("locked by another writer"))'
	wait "$locker"
fi
check_server_log '"GET /healthz" 503 | health: |BEGIN IMMEDIATE'
finish
