-- 012_mail.sql - mail (issue 16): the outbox, each person's switches, the
-- practices they follow, and the upload batches a coach hears about.
--
-- A message is queued in the transaction of the event that causes it and
-- composed only when it is sent: what it says, and whether its recipient
-- may still see what it names, is decided then (a clip withdrawn in
-- between is not mentioned).

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('visit_requested', 'visit_answered',
                                                'visit_reminder', 'processing', 'digest')),
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, -- the recipient
    ref_id        INTEGER,        -- the visit (visit_*), the batch (processing)
    ref_text      TEXT,           -- digest: the first day it covers, YYYY-MM-DD
    dedupe        TEXT NOT NULL UNIQUE, -- one message per event and recipient, whoever queues it
    state         TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'sending', 'handed', 'sent', 'dropped', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL DEFAULT 0, -- not before (s since 1970)
    node          TEXT,           -- the sender holding it ('sending', 'handed')
    pid           INTEGER,
    lease_until   INTEGER,
    last_error    TEXT,           -- why the last try failed, or why it was dropped
    message_id    TEXT,           -- the Message-ID it was sent with
    unsub_hash    BLOB,           -- BLAKE2b of its one-click unsubscribe secret
    unsub_used_at TEXT,           -- the secret is good once
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    sent_at       TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_at);
CREATE INDEX outbox_user ON outbox (user_id, kind);

-- A person's switch for a kind of mail; no row: on.
CREATE TABLE mail_prefs (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('visit_requested', 'visit_answered',
                                              'visit_reminder', 'processing', 'digest')),
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (user_id, kind)
);

-- The practices a person follows: their weekly digest.
CREATE TABLE follows (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    practice_id INTEGER NOT NULL REFERENCES practices (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (user_id, practice_id)
);
CREATE INDEX follows_practice ON follows (practice_id);

-- The files one `kindling upload` sent: the uploader hears once they are
-- all processed (when some failed, or when they asked with --notify).
-- token is the client's name for the run, unique per uploader.
CREATE TABLE upload_batches (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token       TEXT NOT NULL CHECK (length(token) BETWEEN 8 AND 64),
    size        INTEGER NOT NULL CHECK (size BETWEEN 1 AND 100000),
    notify      INTEGER NOT NULL DEFAULT 0 CHECK (notify IN (0, 1)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (user_id, token)
);
ALTER TABLE clips ADD COLUMN batch_id INTEGER REFERENCES upload_batches (id) ON DELETE SET NULL;
CREATE INDEX clips_batch ON clips (batch_id) WHERE batch_id IS NOT NULL;
