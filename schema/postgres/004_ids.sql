-- 004_ids.sql (PostgreSQL) - ids never come back, and the same bytes may be
-- two clips.  (As schema/004_ids.sql.)
--
-- SQLite rebuilds clips and users there, to give them AUTOINCREMENT and to
-- take the UNIQUE off clips.sha256.  Here an identity column never gives an
-- id twice already, so only sha256 changes: its unique constraint goes, and
-- an index on it (named as SQLite's) takes its place.  The view and the
-- triggers that SQLite makes again are untouched here.

ALTER TABLE clips DROP CONSTRAINT clips_sha256_key;
CREATE INDEX clips_sha256 ON clips (sha256);
