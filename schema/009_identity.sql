-- 009_identity.sql - people who come from the district: its roster
-- (OneRoster) and its identity provider (OpenID Connect).
--
-- A person signs in through the district's provider by e-mail address, so
-- the address is unique whatever its case.  A person or school imported
-- from a roster keeps the roster's key (sourcedId): a re-import matches on
-- it, and never on a name that may change.  role_by says who set the role:
-- the roster sets it again at each import, but a role given in kindling (a
-- teacher made a coach) is the district's decision and survives.  People
-- are disabled, never deleted, so that their clips and notes keep an
-- author; disabled_at says since when, disabled_by who decided: an account
-- an admin disabled in kindling stays so whatever the roster says, one the
-- roster disabled comes back when the roster lists it enabled again.

ALTER TABLE users ADD COLUMN email TEXT COLLATE NOCASE;
ALTER TABLE users ADD COLUMN full_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sourced_id TEXT;
ALTER TABLE users ADD COLUMN role_by TEXT NOT NULL DEFAULT 'kindling' CHECK (role_by IN ('kindling', 'roster'));
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN disabled_by TEXT CHECK (disabled_by IS NULL OR disabled_by IN ('kindling', 'roster'));
CREATE UNIQUE INDEX users_email ON users (email);
CREATE UNIQUE INDEX users_sourced_id ON users (sourced_id);

ALTER TABLE schools ADD COLUMN sourced_id TEXT;
CREATE UNIQUE INDEX schools_sourced_id ON schools (sourced_id);

-- A retired practice is offered for no new clip, but its clips keep it.
ALTER TABLE practices ADD COLUMN retired_at TEXT;

-- Credentials say when they were last used (to the minute or so: the
-- server writes it at most every few minutes) and how a session began.
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at TEXT;
ALTER TABLE sessions ADD COLUMN via TEXT NOT NULL DEFAULT 'password' CHECK (via IN ('password', 'oidc'));
ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT '';

-- Sign-ins through the identity provider under way: the browser holds the
-- state, this row what must match it on the way back.  Used once: the
-- callback deletes the row it reads, so a replayed state finds nothing.
CREATE TABLE oidc_logins (
    state_hash  TEXT PRIMARY KEY,           -- BLAKE2b of the state, hex
    nonce       TEXT NOT NULL,
    verifier    TEXT NOT NULL,              -- PKCE code verifier
    next        TEXT NOT NULL DEFAULT '/',
    expires_at  INTEGER NOT NULL            -- s since 1970
);

-- Merging practices deletes one: listings must see it go.
CREATE TRIGGER gen_practices_ad AFTER DELETE ON practices BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_practices_ai AFTER INSERT ON practices BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
