-- 008_uploads.sql - uploads in progress that any web node may continue.
--
-- With the catalogue in PostgreSQL, several web nodes stand behind one
-- address, and the chunks of one tus upload may reach any of them; a node
-- may also die between two.  So an upload lives here and in the media
-- storage, not on a node's disk: its bytes go to a multipart upload of the
-- object storage, aimed at the clip's original, part by part (parts of a
-- fixed size; what is left over after the last whole part waits in the
-- object <clip>/upload-tail until the next chunk), and this row says how
-- far it got.  The clip's id is taken when the upload begins, so the parts
-- are already where the original belongs and nothing is copied at the end.
-- With the embedded catalogue (one machine) uploads stay in the data
-- folder's uploads/ as before; the table is here for both, kept in step.

CREATE TABLE uploads (
    id          TEXT PRIMARY KEY,           -- the tus id: 32 lowercase hex
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clip_id     INTEGER NOT NULL,           -- taken at the start; the clip once complete
    length      INTEGER NOT NULL CHECK (length > 0),
    received    INTEGER NOT NULL DEFAULT 0, -- bytes stored: the tus offset
    meta        TEXT NOT NULL,              -- the clip's metadata (JSON)
    mpu_id      TEXT NOT NULL,              -- the storage's multipart upload
    parts       INTEGER NOT NULL DEFAULT 0, -- whole parts stored
    hash_state  TEXT,                       -- the SHA-256 of the bytes stored, so far
    busy_until  INTEGER,                    -- a transfer holds it until then (s since 1970)
    busy_node   TEXT,                       -- by a process of this node
    busy_pid    INTEGER,                    -- of this pid: once it is gone, at once
    done        INTEGER NOT NULL DEFAULT 0, -- the clip exists
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX uploads_user ON uploads (user_id);
