#!/usr/bin/env bash
# tests/integration/schema.sh - the two back ends have the same schema: the
# SQLite catalogue made by schema/*.sql and the PostgreSQL one made by
# schema/postgres/*.sql (for now each applied by its own CLI, sqlite3 and
# psql; later by the binary), compared table by table:
#   - the same tables and views (less SQLite's own sqlite_%, and FTS5's
#     clips_fts and its shadow tables, which differ by design: only that
#     clips_fts exists on both is checked; the same for the captions' words:
#     SQLite's caption_fts and its triggers, PostgreSQL's caption_cues.doc
#     with its index and trigger), and the same migrations;
#   - per table: the columns in order with a type class (integer, real, text,
#     blob), NOT NULL and default; the primary key; the foreign keys with
#     their ON DELETE; the unique constraints and indexes by columns; the
#     named indexes and their columns; the triggers' names;
#   - and what the triggers do: the same writes on both give the same
#     generation bumps, clip_changes, view counts and full-text matches.
# PostgreSQL is a throwaway cluster (tests/pg_cluster.sh), the schema applied
# by a database owner who is not a superuser, as a district's DBA would
# set it up.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/schema.sh
#
# KINDLING_SCHEMA=DIR compares DIR/*.sql with DIR/postgres/*.sql instead of
# the tree's schema/ (to see the suite fail on a copy changed on purpose).
# Last line: "schema: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite schema sqlite3 psql

SCHEMA=${KINDLING_SCHEMA:-$ROOT/schema}
LITE=$WORK/schema.db
PG_DIR=""

# The cluster goes with the suite, however it ends.  (Not under WORK: as root
# the cluster belongs to the postgres user, who cannot enter WORK.)
stop_pg() {
	[ -n "$PG_DIR" ] && bash "$ROOT/tests/pg_cluster.sh" stop "$PG_DIR" >/dev/null 2>&1
	PG_DIR=""
}
trap 'stop_pg; cleanup' EXIT

# same NAME A B: A and B (lines) are the same; if not, says which lines only
# one has, or that only their order differs.
same() {
	if [ "$2" == "$3" ]; then
		ok "$1"
		return
	fi
	local a b
	a=$(comm -23 <(printf '%s\n' "$2" | sort) <(printf '%s\n' "$3" | sort) | paste -sd';' -)
	b=$(comm -13 <(printf '%s\n' "$2" | sort) <(printf '%s\n' "$3" | sort) | paste -sd';' -)
	if [ -z "$a" ] && [ -z "$b" ]; then
		not_ok "$1" "the same, in another order: sqlite [$(printf '%s' "$2" | paste -sd';' -)], postgres [$(printf '%s' "$3" | paste -sd';' -)]"
	else
		not_ok "$1" "only in sqlite: [${a}]; only in postgres: [${b}]"
	fi
}

# ---------------------------------------------------------------- the two catalogues

[ -d "$SCHEMA/postgres" ] || fatal "schema/postgres exists" "no $SCHEMA/postgres"
same "the same migrations, by name, in SQLite and PostgreSQL" \
	"$(cd "$SCHEMA" && ls -1 -- *.sql)" "$(cd "$SCHEMA/postgres" && ls -1 -- *.sql)"

PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kd-pg-schema-XXXXXX") || fatal "mktemp for the cluster" "cannot"
rmdir "$PG_DIR"
ADMIN_URL=$(bash "$ROOT/tests/pg_cluster.sh" start "$PG_DIR" 2>"$WORK/pg.err") ||
	fatal "a PostgreSQL cluster starts" "$(tail -c 300 "$WORK/pg.err")"
psql -X -q -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "CREATE ROLE kd_owner LOGIN" \
	-c "CREATE DATABASE kd_owner OWNER kd_owner" >/dev/null 2>"$WORK/pg.err" ||
	fatal "a database owned by a role that is not a superuser" "$(tail -c 300 "$WORK/pg.err")"
PG_URL="postgresql:///kd_owner?host=$PG_DIR&user=kd_owner"

lite() { sqlite3 -bail "$LITE" "$@"; }
pg() { psql -X -q -v ON_ERROR_STOP=1 -At -F '|' "$PG_URL" "$@"; }

# migrate_lite FROM TO, migrate_pg FROM TO: apply migrations FROM..TO (by
# their number), each in one transaction; a SQLite one that rebuilds tables
# says so on its first line and runs with foreign keys off, as the binary
# runs it.
migrate_lite() {
	local f n
	for f in "$SCHEMA"/*.sql; do
		n=$((10#$(basename "$f" | cut -c1-3)))
		if [ "$n" -lt "$1" ] || [ "$n" -gt "$2" ]; then continue; fi
		{
			if head -n 1 "$f" | grep -q 'kindling: foreign_keys=off'; then
				echo "PRAGMA foreign_keys = OFF;"
			else
				echo "PRAGMA foreign_keys = ON;"
			fi
			echo "BEGIN;"
			cat "$f"
			echo "COMMIT;"
		} | lite >"$WORK/lite.err" 2>&1 || { echo "$(basename "$f"): $(tail -c 300 "$WORK/lite.err")"; return 1; }
	done
}
migrate_pg() {
	local f n
	for f in "$SCHEMA"/postgres/*.sql; do
		n=$((10#$(basename "$f" | cut -c1-3)))
		if [ "$n" -lt "$1" ] || [ "$n" -gt "$2" ]; then continue; fi
		pg --single-transaction -f "$f" >/dev/null 2>"$WORK/pg.err" ||
			{ echo "postgres/$(basename "$f"): $(tail -c 300 "$WORK/pg.err")"; return 1; }
	done
}

# Up to 005 first: the last migrations then start from rows already there
# (006 counts the views it finds), for the trigger checks at the end.
LAST=$(find "$SCHEMA" -maxdepth 1 -name '*.sql' | wc -l)
why=$(migrate_lite 1 5) || fatal "SQLite: migrations 001-005 apply" "$why"
why=$(migrate_pg 1 5) || fatal "PostgreSQL: migrations 001-005 apply as the database owner" "$why"
ok "migrations 001-005 apply on both"
GEN0_LITE=$(lite "SELECT gen FROM catalogue_generation")
GEN0_PG=$(pg -c "SELECT gen FROM catalogue_generation")

# Rows before 006, the same on both (plain SQL both read alike).
WRITES_BEFORE="
INSERT INTO schools (id, slug, name) VALUES (1, 'north-high', 'North High'),
  (2, 'riverside', 'Riverside Élémentaire'), (3, 'zeph', 'Zephyr Hollow');
INSERT INTO users (id, name, role, school_id) VALUES (1, 'Admin', 'admin', NULL),
  (2, 'teach-n', 'teacher', 1), (3, 'teach-r', 'teacher', 2), (4, 'teach-z', 'teacher', 3);
INSERT INTO clips (id, title, description, school_id, teacher, status, consent, visibility) VALUES
  (10, 'Quasar fractions café', 'Pupils compare fractions with quasar cards.', 1,
   'Zelda Quokkafield', 'ready', 'on-file', 'district'),
  (11, 'Lantern reading circle', 'Naïve warm-up', 2, 'Omar Vell', 'ready', 'on-file', 'school'),
  (12, 'Gondola measurement lab', '', 3, 'Pia Strand', 'queued', 'on-file', 'district');
INSERT INTO clip_practices (clip_id, practice_id) VALUES (10, 1), (10, 2), (11, 3), (12, 1);
INSERT INTO clip_tags (clip_id, tag) VALUES (10, 'zebrafish'), (10, 'warm-up'), (11, 'lantern');
INSERT INTO views (clip_id, user_id, school_id, day) VALUES (10, 3, 2, '2024-01-01'),
  (10, 4, 3, '2024-01-01'), (10, 2, 1, '2024-01-01'), (11, 2, 1, '2024-01-02'),
  (12, 2, 1, '2024-01-02');
"
{ echo "PRAGMA foreign_keys = ON;"; echo "$WRITES_BEFORE"; } | lite >"$WORK/lite.err" 2>&1 ||
	fatal "SQLite: the rows before 006" "$(tail -c 300 "$WORK/lite.err")"
pg -c "$WRITES_BEFORE" >/dev/null 2>"$WORK/pg.err" ||
	fatal "PostgreSQL: the rows before 006" "$(tail -c 300 "$WORK/pg.err")"
why=$(migrate_lite 6 "$LAST") || fatal "SQLite: the migrations after 005 apply" "$why"
why=$(migrate_pg 6 "$LAST") || fatal "PostgreSQL: the migrations after 005 apply" "$why"
ok "migrations 006-$(printf %03d "$LAST") apply on both"

# ---------------------------------------------------------------- the schemas, described alike
#
# One line per fact, "KIND|table|...", the same words from both:
#   T|name|table or view        C|table|n|column|type class|notnull|default
#   V|view|n|column             P|table|primary key columns
#   F|table|col -> table(col) ON DELETE action
#   U|table|columns of a unique constraint or index
#   I|table|index|columns|unique or not (the indexes made by name)
#   G|table|trigger
# A column of an index with a collation other than the default shows it
# (name collate nocase).  A primary key column counts as NOT NULL (SQLite's
# INTEGER PRIMARY KEY is one without saying so); an identity is not a
# default; a default is compared as its text less PostgreSQL's casts
# ('on-file'::text) and SQLite's outer parentheses.

describe_lite() {
	lite <<'SQL'
.mode list
.separator |
CREATE TEMP VIEW t AS
  SELECT name, type FROM sqlite_schema
   WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
     AND name NOT GLOB 'clips_fts*' AND name NOT GLOB 'caption_fts*';
SELECT 'T', name, type FROM t;
SELECT 'C', t.name, c.cid + 1, c.name,
       CASE WHEN upper(c.type) LIKE '%INT%' THEN 'integer'
            WHEN upper(c.type) LIKE '%CHAR%' OR upper(c.type) LIKE '%CLOB%'
                 OR upper(c.type) LIKE '%TEXT%' THEN 'text'
            WHEN upper(c.type) LIKE '%BLOB%' OR c.type = '' THEN 'blob'
            WHEN upper(c.type) LIKE '%REAL%' OR upper(c.type) LIKE '%FLOA%'
                 OR upper(c.type) LIKE '%DOUB%' THEN 'real'
            ELSE 'numeric' END,
       CASE WHEN c."notnull" OR c.pk > 0 THEN 'not null' ELSE 'null' END,
       CASE WHEN c.dflt_value IS NULL THEN 'no default'
            WHEN c.dflt_value LIKE '(%)' THEN 'default ' || substr(c.dflt_value, 2, length(c.dflt_value) - 2)
            ELSE 'default ' || c.dflt_value END
  FROM t, pragma_table_info(t.name) c WHERE t.type = 'table';
SELECT 'V', t.name, c.cid + 1, c.name FROM t, pragma_table_info(t.name) c WHERE t.type = 'view';
SELECT 'P', tn, group_concat(cn, ',') FROM
  (SELECT t.name AS tn, c.name AS cn FROM t, pragma_table_info(t.name) c
    WHERE t.type = 'table' AND c.pk > 0 ORDER BY t.name, c.pk)
 GROUP BY tn;
SELECT 'F', t.name, group_concat(f."from", ',') || ' -> ' || f."table" || '('
       || group_concat(coalesce(f."to", '?'), ',') || ') ON DELETE ' || f.on_delete
  FROM t, pragma_foreign_key_list(t.name) f WHERE t.type = 'table'
 GROUP BY t.name, f.id;
CREATE TEMP VIEW ix AS
  SELECT t.name AS tn, l.name AS ix, l."unique" AS uq, l.origin AS origin, l.partial AS partial,
         (SELECT group_concat(coalesce(x.name, '<expr>')
                              || CASE WHEN x.coll = 'BINARY' THEN '' ELSE ' collate ' || lower(x.coll) END, ',')
            FROM (SELECT * FROM pragma_index_xinfo(l.name) WHERE key ORDER BY seqno) x) AS cols
    FROM t, pragma_index_list(t.name) l WHERE t.type = 'table';
SELECT 'U', tn, cols || CASE WHEN partial THEN ' (partial)' ELSE '' END FROM ix
 WHERE uq AND origin <> 'pk';
SELECT 'I', tn, ix, cols, CASE WHEN uq THEN 'unique' ELSE 'not unique' END
       || CASE WHEN partial THEN ' (partial)' ELSE '' END FROM ix WHERE origin = 'c';
SELECT 'G', tbl_name, name FROM sqlite_schema
 WHERE type = 'trigger' AND tbl_name IN (SELECT name FROM t)
   AND name NOT GLOB 'caption_cues_fts_*';
SQL
}

describe_pg() {
	pg <<'SQL'
CREATE TEMP VIEW t AS
  SELECT c.oid, c.relname AS name, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS type
    FROM pg_class c
   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v')
     AND left(c.relname, 9) <> 'clips_fts' AND c.relname <> 'kindling_schema';
SELECT 'T', name, type FROM t;
SELECT 'C', t.name, row_number() OVER (PARTITION BY t.name ORDER BY a.attnum), a.attname,
       CASE WHEN a.atttypid IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype)
                 THEN 'integer'
            WHEN a.atttypid IN ('double precision'::regtype, 'real'::regtype) THEN 'real'
            WHEN a.atttypid IN ('text'::regtype, 'character varying'::regtype) THEN 'text'
            WHEN a.atttypid = 'bytea'::regtype THEN 'blob'
            ELSE format_type(a.atttypid, a.atttypmod) END,
       CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END,
       CASE WHEN d.adbin IS NULL THEN 'no default'
            ELSE 'default ' || regexp_replace(pg_get_expr(d.adbin, d.adrelid),
                                              '::(text|bigint|integer|double precision|numeric)', '', 'g') END
  FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum
 WHERE t.type = 'table' AND NOT (t.name = 'caption_cues' AND a.attname = 'doc');
SELECT 'V', t.name, a.attnum, a.attname
  FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 WHERE t.type = 'view';
SELECT 'P', t.name, string_agg(a.attname, ',' ORDER BY k.n)
  FROM t JOIN pg_index i ON i.indrelid = t.oid AND i.indisprimary
  CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(att, n)
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.att
 GROUP BY t.name;
SELECT 'F', t.name,
       (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(f.conkey) WITH ORDINALITY k(att, n)
          JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.att)
       || ' -> ' || f.confrelid::regclass::text || '('
       || (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(f.confkey) WITH ORDINALITY k(att, n)
             JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.att)
       || ') ON DELETE ' || CASE f.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                                WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                                WHEN 'd' THEN 'SET DEFAULT' END
  FROM t JOIN pg_constraint f ON f.conrelid = t.oid AND f.contype = 'f';
CREATE TEMP VIEW ix AS
  SELECT t.name AS tn, c.relname AS ix, i.indisunique AS uq, i.indisprimary AS pk,
         i.indpred IS NOT NULL AS partial,
         EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                    AND k.contype IN ('p', 'u', 'x')) AS by_constraint,
         (SELECT string_agg(coalesce(a.attname, '<expr>')
                            || CASE WHEN k.coll IN (0, 100) THEN ''
                                    ELSE ' collate ' || (SELECT collname FROM pg_collation WHERE oid = k.coll) END,
                            ',' ORDER BY k.n)
            FROM unnest(i.indkey::int2[], i.indcollation::oid[]) WITH ORDINALITY k(att, coll, n)
            LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.att AND k.att > 0
           WHERE k.n <= i.indnkeyatts) AS cols
    FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class c ON c.oid = i.indexrelid;
SELECT 'U', tn, cols || CASE WHEN partial THEN ' (partial)' ELSE '' END FROM ix WHERE uq AND NOT pk;
SELECT 'I', tn, ix, cols, CASE WHEN uq THEN 'unique' ELSE 'not unique' END
       || CASE WHEN partial THEN ' (partial)' ELSE '' END FROM ix
 WHERE NOT by_constraint AND ix <> 'caption_cues_doc';
SELECT 'G', t.name, g.tgname FROM t JOIN pg_trigger g ON g.tgrelid = t.oid AND NOT g.tgisinternal
 WHERE g.tgname <> 'caption_cues_doc';
SQL
}

NL=$'\n'
DESC_LITE=$(describe_lite 2>"$WORK/lite.err") || fatal "SQLite's schema can be described" "$(tail -c 300 "$WORK/lite.err")"
DESC_PG=$(describe_pg 2>"$WORK/pg.err") || fatal "PostgreSQL's schema can be described" "$(tail -c 300 "$WORK/pg.err")"

# facts KIND TABLE DESCRIPTION: the lines of one kind and table, less the
# kind and table, in the order given (C and V) or sorted; with TABLE "", of
# every table, less the kind.
facts() {
	if [ -z "$2" ]; then
		printf '%s\n' "$3" | awk -F'|' -v k="$1" '$1 == k' | cut -d'|' -f2- | LC_ALL=C sort
	elif [ "$1" == C ] || [ "$1" == V ]; then
		printf '%s\n' "$3" | awk -F'|' -v k="$1" -v t="$2" '$1 == k && $2 == t' | cut -d'|' -f3- |
			sort -t'|' -k1,1n
	else
		printf '%s\n' "$3" | awk -F'|' -v k="$1" -v t="$2" '$1 == k && $2 == t' | cut -d'|' -f3- |
			LC_ALL=C sort
	fi
}

same "the same tables and views" "$(facts T "" "$DESC_LITE")" "$(facts T "" "$DESC_PG")"
check_eq "clips_fts exists in SQLite" 1 "$(lite "SELECT count(*) FROM sqlite_schema WHERE name = 'clips_fts'")"
check_eq "clips_fts exists in PostgreSQL" 1 "$(pg -c "SELECT count(*) FROM pg_class WHERE relname = 'clips_fts' AND relnamespace = 'public'::regnamespace")"

TABLES=$(facts T "" "$DESC_LITE$NL$DESC_PG" | awk -F'|' '$2 == "table" { print $1 }' | uniq)
VIEWS=$(facts T "" "$DESC_LITE$NL$DESC_PG" | awk -F'|' '$2 == "view" { print $1 }' | uniq)
for t in $TABLES; do
	same "$t: columns (order, type, NOT NULL, default)" "$(facts C "$t" "$DESC_LITE")" "$(facts C "$t" "$DESC_PG")"
	same "$t: primary key" "$(facts P "$t" "$DESC_LITE")" "$(facts P "$t" "$DESC_PG")"
	same "$t: foreign keys" "$(facts F "$t" "$DESC_LITE")" "$(facts F "$t" "$DESC_PG")"
	same "$t: unique constraints and indexes" "$(facts U "$t" "$DESC_LITE")" "$(facts U "$t" "$DESC_PG")"
	same "$t: named indexes" "$(facts I "$t" "$DESC_LITE")" "$(facts I "$t" "$DESC_PG")"
	same "$t: triggers" "$(facts G "$t" "$DESC_LITE")" "$(facts G "$t" "$DESC_PG")"
done
for v in $VIEWS; do
	same "view $v: columns" "$(facts V "$v" "$DESC_LITE")" "$(facts V "$v" "$DESC_PG")"
done

# ---------------------------------------------------------------- the triggers, at work
#
# The same writes on both (plain SQL both read alike, with the rows above
# already there), then what the triggers made of them.

WRITES_AFTER="
INSERT INTO views (clip_id, user_id, school_id, day) VALUES (10, 3, 2, '2024-01-02'),
  (11, 4, 3, '2024-01-02'), (11, 1, NULL, '2024-01-03');
UPDATE views SET day = '2024-01-05' WHERE clip_id = 10 AND user_id = 4;
DELETE FROM views WHERE clip_id = 11 AND user_id = 4;
UPDATE clips SET status = 'failed' WHERE id = 10;
UPDATE clips SET status = 'ready' WHERE id = 10;
UPDATE clips SET visibility = 'private' WHERE id = 11;
UPDATE clips SET status = 'ready' WHERE id = 12;
UPDATE clips SET school_id = 3 WHERE id = 10;
UPDATE clips SET grade = '8' WHERE id = 12;
UPDATE schools SET district = 'East' WHERE id = 1;
INSERT INTO schools (id, slug, name) VALUES (4, 'lakeside', 'Lakeside');
UPDATE users SET role = 'coach' WHERE id = 2;
UPDATE users SET name = 'Teach-North' WHERE id = 2;
UPDATE users SET disabled = 1 WHERE id = 3;
INSERT INTO practices (slug, name) VALUES ('kite-flying', 'Kite flying');
DELETE FROM practices WHERE slug = 'kite-flying';
INSERT INTO clips (id, title, school_id, status) VALUES (13, 'Ephemeral obsidian', 4, 'ready');
INSERT INTO views (clip_id, user_id, school_id, day) VALUES (13, 2, 1, '2024-02-01'),
  (12, 3, 2, '2024-02-01');
DELETE FROM clips WHERE id = 13;
DELETE FROM schools WHERE id = 4;
UPDATE clips SET consent = 'withdrawn', school_id = 1 WHERE id = 12;
DELETE FROM users WHERE id = 4;
INSERT INTO clip_tags (clip_id, tag) VALUES (12, 'fables');
-- Last, each the last change to some clip's document, so that every
-- full-text trigger is seen at work (a later change would rebuild it).
INSERT INTO schools (id, slug, name) VALUES (5, 'delta', 'Delta Springs');
INSERT INTO clips (id, title, school_id, status) VALUES (14, 'Harbour kayak', 5, 'ready'),
  (15, 'Meadow survey', 1, 'ready'), (16, 'Orchard bees', 1, 'ready'), (17, 'Quarry echoes', 1, 'ready');
INSERT INTO clip_practices (clip_id, practice_id) VALUES (15, 7), (10, 5), (11, 5);
INSERT INTO clip_tags (clip_id, tag) VALUES (11, 'lighthouse');
UPDATE practices SET name = 'Mastery Pathways' WHERE slug = 'mastery-tracking';
UPDATE schools SET name = 'Riverside Academy' WHERE id = 2;
UPDATE clip_practices SET practice_id = 6 WHERE clip_id = 11 AND practice_id = 3;
DELETE FROM clip_tags WHERE clip_id = 10 AND tag = 'zebrafish';
DELETE FROM clip_practices WHERE clip_id = 10 AND practice_id = 1;
DELETE FROM clip_tags WHERE clip_id = 11 AND tag = 'lighthouse';
UPDATE clips SET title = 'Gondola renamed', teacher = 'Zed Quill' WHERE id = 12;
UPDATE schools SET name = 'Delta Harbour' WHERE id = 5;
UPDATE practices SET name = 'Peer critique' WHERE id = 7;
INSERT INTO clip_practices (clip_id, practice_id) VALUES (16, 8);
INSERT INTO clip_tags (clip_id, tag) VALUES (17, 'basalt');
INSERT INTO clips (id, title, school_id) VALUES (18, 'Willow tides', 1);
"
{ echo "PRAGMA foreign_keys = ON;"; echo "$WRITES_AFTER"; } | lite >"$WORK/lite.err" 2>&1 ||
	fatal "SQLite: the writes" "$(tail -c 300 "$WORK/lite.err")"
pg -c "$WRITES_AFTER" >/dev/null 2>"$WORK/pg.err" || fatal "PostgreSQL: the writes" "$(tail -c 300 "$WORK/pg.err")"

check_eq "the generation went up as much on both" \
	$(($(lite "SELECT gen FROM catalogue_generation") - GEN0_LITE)) \
	$(($(pg -c "SELECT gen FROM catalogue_generation") - GEN0_PG))
# (the first row is the random start)
same "the same clip_changes, in the same order" \
	"$(lite "SELECT clip_id FROM clip_changes ORDER BY seq" | tail -n +2)" \
	"$(pg -c "SELECT clip_id FROM clip_changes ORDER BY seq" | tail -n +2)"
check_eq "PostgreSQL: clip_changes' seqs follow each other" t \
	"$(pg -c "SELECT count(*) = max(seq) - min(seq) + 1 FROM clip_changes")"
COUNTS="SELECT clip_school_id, day, shared, n FROM view_counts ORDER BY 1, 2, 3"
same "the same view_counts" "$(lite "$COUNTS")" "$(pg -c "$COUNTS")"
COUNTS="SELECT viewer_school_id, practice_id, day, clip_school_id, n FROM view_practice_counts ORDER BY 1, 2, 3, 4"
same "the same view_practice_counts" "$(lite "$COUNTS")" "$(pg -c "$COUNTS")"
# Recounted from views, the counts of both are right, not only alike.
RECOUNT="SELECT c.school_id, v.day, CASE WHEN c.status = 'ready' AND c.consent = 'on-file'
                AND c.visibility IN ('district', 'school') THEN 1 ELSE 0 END, count(*)
           FROM views v JOIN clips c ON c.id = v.clip_id WHERE v.school_id != c.school_id
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
same "PostgreSQL: view_counts (less the zeros) are the views counted again" \
	"$(pg -c "$RECOUNT")" "$(pg -c "SELECT clip_school_id, day, shared, n FROM view_counts WHERE n > 0 ORDER BY 1, 2, 3")"

# Full text: each word, as a prefix and whole, finds the same clips: FTS5's
# MATCH on SQLite, kd_fts_match() of the same match text on PostgreSQL.
# (Not ß or æ: PostgreSQL's unaccent makes them ss and ae, FTS5 keeps them.)
misses=""
for w in quasar quas fractions cafe café lantern naive naïve warm up warm-up warm-u zebrafish \
	zebra zelda north riverside academy river zephyr hollow mastery pathways blended diff \
	gondola pia strand fables élémentaire elementaire student kite renamed quill lighthouse \
	springs harbour critique feedback project basalt willow kayak \
	"quasar cards" "pupils quas" "north-hi" "zeph hollow"; do
	for prefix in '*' ''; do
		# shellcheck disable=SC2086  # each word of w in its own quotes
		match=$(printf '"%s" ' $w | sed 's/ $//')$prefix
		l=$(lite "SELECT group_concat(rowid, ' ') FROM (SELECT rowid FROM clips_fts
		           WHERE clips_fts MATCH '$match' ORDER BY rowid)")
		p=$(pg -c "SELECT string_agg(id::text, ' ' ORDER BY id) FROM clips_fts
		           WHERE doc @@ kd_fts_match('$match')")
		[ "$l" == "$p" ] || misses+=" $match (sqlite [$l], postgres [$p])"
	done
done
check_none "full-text matches find the same clips on both" "$misses"

# A writer of clip_changes holds lock 7210001 until it commits (005): while
# one does, another waits (here, gives up after 100 ms) rather than take the
# next seq.  (A new school: a change recorded, and no generation bumped,
# whose triggers take the same lock.)
pg -c "BEGIN; INSERT INTO schools (id, slug, name) VALUES (6, 'held', 'Held'); SELECT pg_sleep(20); COMMIT" \
	>/dev/null 2>&1 &
HOLDER=$!
held() {
	[ "$(pg -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
	              AND classid = 0 AND objid = 7210001 AND objsubid = 1")" == 1 ]
}
if wait_until 10 held; then
	second=$(pg -c "SET lock_timeout = '100ms'" -c "INSERT INTO schools (id, slug, name) VALUES (7, 'waits', 'Waits')" 2>&1)
	check_match "PostgreSQL: a second writer of clip_changes waits for the first to commit" \
		'lock timeout' "$second"
else
	not_ok "PostgreSQL: a writer of clip_changes holds lock 7210001" "no such lock seen in 10 s"
fi
pg -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
        WHERE query LIKE 'BEGIN; INSERT INTO schools%' AND pid <> pg_backend_pid()" >/dev/null 2>&1
wait "$HOLDER" 2>/dev/null
check_eq "PostgreSQL: clips_fts is kd_fts_doc() of every clip, and of no other" "0|0" \
	"$(pg -c "SELECT (SELECT count(*) FROM clips c FULL JOIN clips_fts f ON f.id = c.id
	                   WHERE f.doc IS DISTINCT FROM kd_fts_doc(c.id)),
	                 (SELECT count(*) FROM clips_fts f WHERE NOT EXISTS (SELECT 1 FROM clips c WHERE c.id = f.id))")"

finish
