-- 008_uploads.sql (PostgreSQL) - uploads in progress that any web node may
-- continue.  (As schema/008_uploads.sql, which says why.)

CREATE TABLE uploads (
    id          text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clip_id     bigint NOT NULL,
    length      bigint NOT NULL CHECK (length > 0),
    received    bigint NOT NULL DEFAULT 0,
    meta        text NOT NULL,
    mpu_id      text NOT NULL,
    parts       bigint NOT NULL DEFAULT 0,
    hash_state  text,
    busy_until  bigint,
    busy_node   text,
    busy_pid    bigint,
    done        bigint NOT NULL DEFAULT 0,
    created_at  text NOT NULL DEFAULT strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
    updated_at  text NOT NULL DEFAULT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
);
CREATE INDEX uploads_user ON uploads (user_id);
