-- 001_init.sql - the whole kindling domain (see PRODUCT.md).
--
-- Times are UTC text, 'YYYY-MM-DDTHH:MM:SSZ'; calendar dates are 'YYYY-MM-DD'.
-- Slugs are lowercase ASCII letters, digits and '-'.

CREATE TABLE schools (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE CHECK (slug GLOB '[a-z0-9]*' AND slug NOT GLOB '*[^a-z0-9-]*'),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    district    TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE practices (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE CHECK (slug GLOB '[a-z0-9]*' AND slug NOT GLOB '*[^a-z0-9-]*'),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

INSERT INTO practices (slug, name, description) VALUES
    ('blended-learning', 'Blended learning', 'Students learn partly online, with some control over time, place, path or pace, and partly with the teacher.'),
    ('differentiation', 'Differentiation', 'The same goal reached by different routes: tasks, support and products fitted to each learner.'),
    ('student-choice', 'Student choice', 'Students choose what, how or with whom they learn, within a structure the teacher sets.'),
    ('station-rotation', 'Station rotation', 'Small groups rotate through stations on a schedule, one of them with the teacher.'),
    ('mastery-tracking', 'Mastery tracking', 'Students and teacher track progress skill by skill, and move on when a skill is mastered.'),
    ('formative-assessment', 'Formative assessment', 'Quick checks during learning that change what happens next.'),
    ('peer-feedback', 'Peer feedback', 'Students give each other structured, specific feedback on work in progress.'),
    ('project-based-learning', 'Project-based learning', 'Students learn by working over time on a real question or problem and share what they make.'),
    ('classroom-discussion', 'Classroom discussion', 'Structured talk in which students build on and challenge each other''s ideas.'),
    ('flexible-grouping', 'Flexible grouping', 'Groups formed and re-formed from evidence, for a purpose and a short time.');

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 100),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'coach', 'principal', 'teacher')),
    school_id     INTEGER REFERENCES schools (id) ON DELETE SET NULL,
    password_hash TEXT,           -- argon2id string from libsodium, NULL: no password login
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- API tokens.  The secret is never stored: only its BLAKE2b hash.  The
-- token a user holds names its row ("kd_<id>_<secret>"), so checking it is
-- one lookup by key and one constant-time comparison.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    expires_at  TEXT            -- NULL: until revoked
);
CREATE INDEX tokens_user ON tokens (user_id);

-- Browser sessions, the same shape as tokens, always with an expiry.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE clips (
    id            INTEGER PRIMARY KEY,
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
    sha256        TEXT UNIQUE,    -- of the original file, lowercase hex
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
CREATE INDEX clips_school ON clips (school_id, id);
CREATE INDEX clips_uploader ON clips (uploader_id);
CREATE INDEX clips_status ON clips (status);

CREATE TABLE clip_practices (
    clip_id     INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    practice_id INTEGER NOT NULL REFERENCES practices (id) ON DELETE RESTRICT,
    PRIMARY KEY (clip_id, practice_id)
) WITHOUT ROWID;
CREATE INDEX clip_practices_by_practice ON clip_practices (practice_id, clip_id);

CREATE TABLE clip_tags (
    clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 50),
    PRIMARY KEY (clip_id, tag)
) WITHOUT ROWID;
CREATE INDEX clip_tags_by_tag ON clip_tags (tag);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    clip_id    INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    at_s       REAL CHECK (at_s IS NULL OR at_s >= 0),   -- time offset in the clip, NULL: the whole clip
    body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX comments_clip ON comments (clip_id, at_s);

CREATE TABLE visits (
    id             INTEGER PRIMARY KEY,
    clip_id        INTEGER REFERENCES clips (id) ON DELETE SET NULL,
    requester_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    visitor_school_id INTEGER REFERENCES schools (id) ON DELETE SET NULL,
    host_school_id INTEGER NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    practice_id    INTEGER REFERENCES practices (id) ON DELETE SET NULL,
    proposed_dates TEXT NOT NULL,  -- JSON array of YYYY-MM-DD, one to three
    date           TEXT,           -- the accepted date
    note           TEXT NOT NULL DEFAULT '',
    answer_note    TEXT NOT NULL DEFAULT '',
    reflection     TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'accepted', 'declined', 'done')),
    answered_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX visits_host ON visits (host_school_id, status);
CREATE INDEX visits_requester ON visits (requester_id);

-- One row per viewer per clip per day: how practices spread.
CREATE TABLE views (
    clip_id   INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    school_id INTEGER REFERENCES schools (id) ON DELETE SET NULL,  -- the viewer's school then
    day       TEXT NOT NULL,
    PRIMARY KEY (clip_id, user_id, day)
) WITHOUT ROWID;
CREATE INDEX views_school_day ON views (school_id, day);

-- Processing work.  A worker claims a queued job by setting state and
-- claimed_at in one UPDATE; an interrupted job goes back to queued until
-- attempts reaches max_attempts.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    clip_id      INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL DEFAULT 'process' CHECK (kind IN ('process')),
    state        TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    worker_pid   INTEGER,
    claimed_at   TEXT,
    error        TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX jobs_state ON jobs (state, id);

-- Full-text search.  The document of a clip gathers text from four tables,
-- so it is kept as its own FTS5 table, rebuilt row by row by the triggers
-- below whenever any part of it changes.
CREATE VIRTUAL TABLE clips_fts USING fts5 (
    title, description, teacher, school, practices, tags,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

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
CREATE TRIGGER clip_practices_fts_ai AFTER INSERT ON clip_practices BEGIN
    DELETE FROM clips_fts WHERE rowid = NEW.clip_id;
    INSERT INTO clips_fts (rowid, title, description, teacher, school, practices, tags)
    SELECT id, title, description, teacher, school, practices, tags FROM clip_search_doc WHERE id = NEW.clip_id;
END;
CREATE TRIGGER clip_practices_fts_ad AFTER DELETE ON clip_practices BEGIN
    DELETE FROM clips_fts WHERE rowid = OLD.clip_id;
    INSERT INTO clips_fts (rowid, title, description, teacher, school, practices, tags)
    SELECT id, title, description, teacher, school, practices, tags FROM clip_search_doc WHERE id = OLD.clip_id;
END;
CREATE TRIGGER clip_tags_fts_ai AFTER INSERT ON clip_tags BEGIN
    DELETE FROM clips_fts WHERE rowid = NEW.clip_id;
    INSERT INTO clips_fts (rowid, title, description, teacher, school, practices, tags)
    SELECT id, title, description, teacher, school, practices, tags FROM clip_search_doc WHERE id = NEW.clip_id;
END;
CREATE TRIGGER clip_tags_fts_ad AFTER DELETE ON clip_tags BEGIN
    DELETE FROM clips_fts WHERE rowid = OLD.clip_id;
    INSERT INTO clips_fts (rowid, title, description, teacher, school, practices, tags)
    SELECT id, title, description, teacher, school, practices, tags FROM clip_search_doc WHERE id = OLD.clip_id;
END;
CREATE TRIGGER schools_fts_au AFTER UPDATE OF name, slug ON schools BEGIN
    DELETE FROM clips_fts WHERE rowid IN (SELECT id FROM clips WHERE school_id = NEW.id);
    INSERT INTO clips_fts (rowid, title, description, teacher, school, practices, tags)
    SELECT id, title, description, teacher, school, practices, tags FROM clip_search_doc
     WHERE id IN (SELECT id FROM clips WHERE school_id = NEW.id);
END;
CREATE TRIGGER practices_fts_au AFTER UPDATE OF name, slug ON practices BEGIN
    DELETE FROM clips_fts WHERE rowid IN (SELECT clip_id FROM clip_practices WHERE practice_id = NEW.id);
    INSERT INTO clips_fts (rowid, title, description, teacher, school, practices, tags)
    SELECT id, title, description, teacher, school, practices, tags FROM clip_search_doc
     WHERE id IN (SELECT clip_id FROM clip_practices WHERE practice_id = NEW.id);
END;
