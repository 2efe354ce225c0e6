-- kindling: foreign_keys=off
-- 004_ids.sql - ids never come back, and the same bytes may be two clips.
--
-- Clips and users get AUTOINCREMENT: a deleted clip's or person's id is
-- never given to another, so links, notes, logs and records keep meaning
-- what they meant.  sha256 is no longer UNIQUE: the duplicate check only
-- matches clips the uploader may see (another school's private clip must
-- not be revealed by uploading its bytes), so the same file may be filed
-- twice.  SQLite cannot change either in place: the tables are rebuilt
-- (https://www.sqlite.org/lang_altertable.html, "making other kinds of
-- table schema changes"), with foreign keys off and checked at the end by
-- the migrator, and the view and triggers that read them made again.

PRAGMA legacy_alter_table = ON;
DROP VIEW clip_search_doc;

CREATE TABLE clips_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description   TEXT NOT NULL DEFAULT '',
    school_id     INTEGER NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
    teacher       TEXT NOT NULL DEFAULT '',
    grade         TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    recorded_on   TEXT,           -- YYYY-MM-DD
    uploaded_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    uploader_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    consent       TEXT NOT NULL DEFAULT 'on-file' CHECK (consent IN ('on-file', 'pending', 'withdrawn')),
    visibility    TEXT NOT NULL DEFAULT 'district' CHECK (visibility IN ('district', 'school', 'private')),
    status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
    error         TEXT,           -- why it failed, in words a coach can act on
    original_name TEXT NOT NULL DEFAULT '',
    sha256        TEXT,           -- of the original file, lowercase hex
    -- media facts of the original file, NULL until probed
    container     TEXT,
    duration_s    REAL,
    width         INTEGER,        -- as displayed: after rotation and sample aspect ratio
    height        INTEGER,
    coded_width   INTEGER,
    coded_height  INTEGER,
    rotation      INTEGER,        -- degrees clockwise, 0/90/180/270
    video_codec   TEXT,
    audio_codec   TEXT,
    fps           REAL,
    bit_rate      INTEGER,
    size_bytes    INTEGER,
    created_time  TEXT,           -- when the camera says it was recorded
    has_captions  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO clips_new SELECT * FROM clips;
DROP TABLE clips;
ALTER TABLE clips_new RENAME TO clips;
CREATE INDEX clips_school ON clips (school_id, id);
CREATE INDEX clips_uploader ON clips (uploader_id);
CREATE INDEX clips_status ON clips (status);
CREATE INDEX clips_sha256 ON clips (sha256);

CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 100),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'coach', 'principal', 'teacher')),
    school_id     INTEGER REFERENCES schools (id) ON DELETE SET NULL,
    password_hash TEXT,           -- argon2id string from libsodium, NULL: no password login
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO users_new SELECT * FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE VIEW clip_search_doc AS
SELECT c.id AS id,
       c.title AS title,
       c.description AS description,
       c.teacher AS teacher,
       s.name || ' ' || s.slug AS school,
       coalesce((SELECT group_concat(p.name || ' ' || p.slug, ' ')
                   FROM clip_practices cp JOIN practices p ON p.id = cp.practice_id
                  WHERE cp.clip_id = c.id), '') AS practices,
       coalesce((SELECT group_concat(t.tag, ' ') FROM clip_tags t WHERE t.clip_id = c.id), '') AS tags
  FROM clips c JOIN schools s ON s.id = c.school_id;

CREATE TRIGGER clips_fts_ai AFTER INSERT ON clips BEGIN
    INSERT INTO clips_fts (rowid, title, description, teacher, school, practices, tags)
    SELECT id, title, description, teacher, school, practices, tags FROM clip_search_doc WHERE id = NEW.id;
END;
CREATE TRIGGER clips_fts_ad AFTER DELETE ON clips BEGIN
    DELETE FROM clips_fts WHERE rowid = OLD.id;
END;
CREATE TRIGGER clips_fts_au AFTER UPDATE OF title, description, teacher, school_id ON clips BEGIN
    DELETE FROM clips_fts WHERE rowid = OLD.id;
    INSERT INTO clips_fts (rowid, title, description, teacher, school, practices, tags)
    SELECT id, title, description, teacher, school, practices, tags FROM clip_search_doc WHERE id = NEW.id;
END;
CREATE TRIGGER gen_clips_ai AFTER INSERT ON clips BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_clips_au AFTER UPDATE ON clips BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_clips_ad AFTER DELETE ON clips BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_users_au AFTER UPDATE OF school_id, role ON users BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
PRAGMA legacy_alter_table = OFF;
