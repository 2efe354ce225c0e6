#!/usr/bin/env bash
# tests/integration/cli.sh - the admin CLI: seed, school/practice/user add
# and their errors, --password-stdin; where the data folder comes from
# (--data, KINDLING_DATA); a catalogue from a newer kindling refused; and
# kindling.conf honoured or refused by `serve`.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/cli.sh
#
# Needs curl, jq and the sqlite3 CLI.  Last line: "cli: N passed, N failed".

# shellcheck disable=SC2016  # jq and SQL in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite cli sqlite3

# ---------------------------------------------------------------- set-up commands

SEED=40
run_cli seed --clips $SEED --data "$DATA"
check_eq "seed --clips $SEED exits 0 and makes $SEED clips" "0 $SEED" \
	"$RC $(sql 'SELECT count(*) FROM clips')"

run_cli school add zephyr-hollow "Zephyr Hollow Academy" --district "Test District" --data "$DATA"
rc1=$RC
run_cli practice add kite-flying "Kite flying" --description "Ideas take off in the wind." --data "$DATA"
check_eq "school add --district and practice add --description exit 0" "0 0" "$rc1 $RC"

bad=""
for u in "it-admin admin" "coach-north coach north-high" "coach-river coach riverside-elementary" \
	"teach-north teacher north-high" "teach-river teacher riverside-elementary" \
	"principal-north principal north-high"; do
	# shellcheck disable=SC2086  # NAME ROLE [SCHOOL], none with spaces
	t=$(add_user $u)
	[[ $t =~ ^kd_[0-9]+_[A-Za-z0-9_-]{20,}$ ]] || bad+=" ${u%% *}:'$t'"
done
[ -z "$bad" ] || fatal "user add prints a token as its last line" "got$bad"
ok "user add prints a token kd_<id>_<secret> as its last line (6 users)"

run_cli user add --name it-admin2 --role admin --data "$DATA"
check_match "user add: message on stderr, only the token on stdout" '^kd_[0-9]+_[^ ]+$' "$OUT"

# ---------------------------------------------------------------- errors

run_cli user add --name someone --role overlord --data "$DATA"
check_eq "user add with an unknown role exits 2" 2 "$RC"
run_cli user add --name someone --role teacher --school atlantis-high --data "$DATA"
if [ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -q atlantis-high; then
	ok "user add with an unknown school fails and names the school"
else
	not_ok "user add with an unknown school fails and names the school" "rc=$RC stderr='$ERR'"
fi
run_cli user add --name teach-north --role teacher --data "$DATA"
rc1=$RC
run_cli user add --name TEACH-NORTH --role teacher --data "$DATA"
check "user add with a taken name fails (names are unique ignoring case)" \
	test "$rc1" -ne 0 -a "$RC" -ne 0
run_cli school add "Bad Slug" "Bad School" --data "$DATA"
rc1=$RC
run_cli practice add "Not A Slug" "Whatever" --data "$DATA"
check "school add / practice add with slug 'Bad Slug' fail" test "$rc1" -ne 0 -a "$RC" -ne 0
run_cli school add north-high "North Again" --data "$DATA"
check "school add with an existing slug fails" test "$RC" -ne 0

# ---------------------------------------------------------------- passwords

# (input by process substitution: run_cli must run in this shell to set RC)
run_cli user add --name pw-user --role teacher --school north-high --password-stdin --data "$DATA" \
	< <(printf 'correct horse battery staple\n')
check_eq "user add --password-stdin exits 0" 0 "$RC"
check_match "--password-stdin stores an argon2id hash" '^\$argon2id\$' \
	"$(sql "SELECT password_hash FROM users WHERE name = 'pw-user'")"
printf 'short\n' | "$BIN" user add --name pw-short --role teacher --password-stdin --data "$DATA" \
	>/dev/null 2>&1
rc1=$?
"$BIN" user add --name pw-empty --role teacher --password-stdin --data "$DATA" </dev/null \
	>/dev/null 2>&1
check "user add --password-stdin with a 5-character password or empty input fails" \
	test "$rc1" -ne 0 -a $? -ne 0

# ---------------------------------------------------------------- versions

# (these are about the data folder's own catalogue file: on SQLite whatever
# the suite runs on; the PostgreSQL catalogue's version check is in
# tests/unit/test_db.c)
pg_database=${KINDLING_DATABASE:-}
unset KINDLING_DATABASE
mkdir -p "$WORK/newer"
"$BIN" school add seed "Seed School" --data "$WORK/newer" >/dev/null 2>&1
sqlite3 "$WORK/newer/catalogue.db" 'PRAGMA user_version = 999'
run_cli school add x X --data "$WORK/newer"
if [ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -qi newer; then
	ok "a catalogue from a newer kindling is refused with a message saying 'newer'"
else
	not_ok "a catalogue from a newer kindling is refused with a message saying 'newer'" "rc=$RC stderr='$ERR'"
fi
check_eq "the newer catalogue is left alone" "999|0" \
	"$(sqlite3 "$WORK/newer/catalogue.db" "SELECT (SELECT user_version FROM pragma_user_version), count(*) FROM schools WHERE slug = 'x'")"
serve_must_fail "serve refuses a catalogue from a newer kindling, saying 'newer'" \
	newer --data "$WORK/newer" --listen 127.0.0.1:0

# ---------------------------------------------------------------- the data folder

# (begin_suite cd'd into WORK, so the default ./kindling-data would land there)
KINDLING_DATA=$WORK/envdata "$BIN" school add env-school "Env School" >/dev/null 2>&1
check_eq "KINDLING_DATA is used when --data is absent" env-school \
	"$(sqlite3 "$WORK/envdata/catalogue.db" "SELECT slug FROM schools WHERE slug = 'env-school'" 2>&1)"
KINDLING_DATA=$WORK/envdata "$BIN" school add flag-school "Flag School" --data "$WORK/flagdata" >/dev/null 2>&1
check_eq "--data wins over KINDLING_DATA" "1 0" \
	"$(sqlite3 "$WORK/flagdata/catalogue.db" "SELECT count(*) FROM schools WHERE slug = 'flag-school'") $(sqlite3 "$WORK/envdata/catalogue.db" "SELECT count(*) FROM schools WHERE slug = 'flag-school'")"
check "nothing was written to ./kindling-data" test ! -e "$WORK/kindling-data"
[ -n "$pg_database" ] && export KINDLING_DATABASE=$pg_database

# ---------------------------------------------------------------- kindling.conf

mkdir -p "$WORK/confdata"
printf '# test settings\nlisten = 127.0.0.1:0\nhttp_threads = 3   # three\n' >"$WORK/confdata/kindling.conf"
# no --listen: the port must come from the file (port 0: the server picks)
if KINDLING_DATA=$WORK/confdata start_server_with; then
	ok "kindling.conf 'listen = 127.0.0.1:0' is honoured (port $PORT)"
	check "kindling.conf http_threads = 3 is honoured" grep -q 'with 3 threads' "$SERVER_LOG"
	req GET /healthz ""
	check_status "the server started from kindling.conf answers" 200
	stop_server
	check_server_log
else
	not_ok "kindling.conf 'listen = 127.0.0.1:0' is honoured" "$(log_tail)"
fi

mkdir -p "$WORK/baddata"
printf 'listen = 127.0.0.1:0\nfrobnicate = yes\n' >"$WORK/baddata/kindling.conf"
serve_must_fail "serve fails on an unknown key in kindling.conf, naming the key" \
	frobnicate --data "$WORK/baddata"

finish
