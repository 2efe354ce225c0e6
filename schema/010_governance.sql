-- 010_governance.sql - what a district's privacy officer answers for: why
-- each clip may be seen (its consent record), what of it is blurred, who
-- did what (the audit trail), and how long it is kept (legal hold).
--
-- Consent is a record, not a flag.  clips.consent stays the state every
-- privacy check reads (on-file, pending, withdrawn); beside it the basis
-- of an on-file consent (releases: releases on file for everyone on
-- camera; no-students: no student can be identified; blurred: those
-- without a release are blurred), who confirmed it and when.  Names, not
-- ids: a record must still say who when the account is gone.
ALTER TABLE clips ADD COLUMN consent_basis TEXT CHECK (consent_basis IS NULL OR consent_basis IN ('releases', 'no-students', 'blurred'));
ALTER TABLE clips ADD COLUMN consent_by TEXT;
ALTER TABLE clips ADD COLUMN consent_at TEXT;
-- A legal hold keeps a clip past any retention period until it is lifted.
ALTER TABLE clips ADD COLUMN hold_at TEXT;
ALTER TABLE clips ADD COLUMN hold_by TEXT;
ALTER TABLE clips ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
-- blur_rev counts changes of the clip's blur regions; media_blur_rev is
-- the one its served files were made with.  While they differ the files
-- show what should now be blurred, so they are not served.
ALTER TABLE clips ADD COLUMN blur_rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clips ADD COLUMN media_blur_rev INTEGER NOT NULL DEFAULT 0;

-- Clips filed before consent had a record: the uploader confirmed the
-- releases (the only basis there was) when uploading.
UPDATE clips SET consent_basis = 'releases' WHERE consent = 'on-file';
UPDATE clips SET consent_at = uploaded_at,
                 consent_by = (SELECT u.name FROM users u WHERE u.id = clips.uploader_id);

-- The history of a clip's consent, oldest first; it goes with the clip
-- (the audit trail keeps that the clip was deleted, by whom and why).
CREATE TABLE consent_events (
    id        INTEGER PRIMARY KEY,
    clip_id   INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    consent   TEXT NOT NULL CHECK (consent IN ('on-file', 'pending', 'withdrawn')),
    basis     TEXT CHECK (basis IS NULL OR basis IN ('releases', 'no-students', 'blurred')),
    reason    TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    user_name TEXT NOT NULL DEFAULT '',
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX consent_events_clip ON consent_events (clip_id, id);
INSERT INTO consent_events (clip_id, consent, basis, user_name, at)
    SELECT id, consent, consent_basis, coalesce(consent_by, ''), uploaded_at FROM clips;

-- Rectangles blurred in everything served, over a time range of the clip;
-- x, y, w, h are fractions of the upright picture, so they hold whatever
-- size the rendition is.  A face finder may later propose regions
-- (source detector, state proposed, with its confidence): only applied
-- ones are blurred, and a person applies them.
CREATE TABLE blur_regions (
    id         INTEGER PRIMARY KEY,
    clip_id    INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    from_s     REAL NOT NULL CHECK (from_s >= 0),
    to_s       REAL NOT NULL CHECK (to_s > from_s),
    x          REAL NOT NULL CHECK (x >= 0 AND x < 1),
    y          REAL NOT NULL CHECK (y >= 0 AND y < 1),
    w          REAL NOT NULL CHECK (w > 0 AND w <= 1),
    h          REAL NOT NULL CHECK (h > 0 AND h <= 1),
    source     TEXT NOT NULL DEFAULT 'editor' CHECK (source IN ('editor', 'detector')),
    state      TEXT NOT NULL DEFAULT 'applied' CHECK (state IN ('applied', 'proposed')),
    confidence REAL CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX blur_regions_clip ON blur_regions (clip_id, from_s);

-- Who did what, append-only.  No foreign keys: an entry outlives the
-- account and the clip it names (user_name and the detail say who and
-- what they were).  user_name '' is kindling itself (retention).  No
-- entry is ever changed, and none younger than a year is deleted (the
-- server removes entries older than audit_months, at least 12).
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    user_id   INTEGER,
    user_name TEXT NOT NULL DEFAULT '',
    action    TEXT NOT NULL,
    clip_id   INTEGER,
    target    TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '',
    ip        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_clip ON audit (clip_id, at);
CREATE INDEX audit_user ON audit (user_id, at);
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: entries are never changed');
END;
CREATE TRIGGER audit_keep_a_year BEFORE DELETE ON audit
    WHEN OLD.at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-12 months') BEGIN
    SELECT RAISE(ABORT, 'audit entries younger than a year are never deleted');
END;
