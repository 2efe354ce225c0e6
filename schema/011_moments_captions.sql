-- 011_moments_captions.sql - what a teacher watches first (moments: a
-- time range of a clip that shows a practice, with a short title) and
-- what a deaf teacher reads (captions, searched with the rest).

CREATE TABLE moments (
    id          INTEGER PRIMARY KEY,
    clip_id     INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    practice_id INTEGER NOT NULL REFERENCES practices (id),
    start_s     REAL NOT NULL CHECK (start_s >= 0),
    end_s       REAL NOT NULL CHECK (end_s > start_s),
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX moments_clip ON moments (clip_id, start_s);
CREATE INDEX moments_practice ON moments (practice_id, id);

-- A clip's moments are part of what pages built from it show: a change
-- moves the catalogue on like a change of the clip (005_changes.sql).
CREATE TRIGGER chg_moments_ai AFTER INSERT ON moments BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (NEW.clip_id);
END;
CREATE TRIGGER chg_moments_au AFTER UPDATE ON moments BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (NEW.clip_id);
END;
CREATE TRIGGER chg_moments_ad AFTER DELETE ON moments BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (OLD.clip_id);
END;

-- Where a clip's captions came from.  has_captions (001) stays: it says
-- whether captions.vtt exists, and every reader of it keeps working.
ALTER TABLE clips ADD COLUMN captions TEXT NOT NULL DEFAULT 'none'
    CHECK (captions IN ('none', 'uploaded', 'automatic'));
UPDATE clips SET captions = 'uploaded' WHERE has_captions <> 0;

-- The cues of a clip's captions, one row each, so a search can say at
-- what second a word was said (the captions.vtt served is made from the
-- same cues).  caption_fts indexes their text like clips_fts its documents.
CREATE TABLE caption_cues (
    id      INTEGER PRIMARY KEY,
    clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    start_s REAL NOT NULL CHECK (start_s >= 0),
    end_s   REAL NOT NULL CHECK (end_s >= start_s),
    text    TEXT NOT NULL
);
CREATE INDEX caption_cues_clip ON caption_cues (clip_id, start_s);

CREATE VIRTUAL TABLE caption_fts USING fts5 (
    text,
    content = 'caption_cues', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
CREATE TRIGGER caption_cues_fts_ai AFTER INSERT ON caption_cues BEGIN
    INSERT INTO caption_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER caption_cues_fts_ad AFTER DELETE ON caption_cues BEGIN
    INSERT INTO caption_fts (caption_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;
CREATE TRIGGER caption_cues_fts_au AFTER UPDATE ON caption_cues BEGIN
    INSERT INTO caption_fts (caption_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
    INSERT INTO caption_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
