-- 009_identity.sql (PostgreSQL) - people who come from the district.  (As
-- schema/009_identity.sql, which says why.)

ALTER TABLE users ADD COLUMN email text COLLATE nocase;
ALTER TABLE users ADD COLUMN full_name text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sourced_id text;
ALTER TABLE users ADD COLUMN role_by text NOT NULL DEFAULT 'kindling' CHECK (role_by IN ('kindling', 'roster'));
ALTER TABLE users ADD COLUMN disabled_at text;
ALTER TABLE users ADD COLUMN disabled_by text CHECK (disabled_by IS NULL OR disabled_by IN ('kindling', 'roster'));
CREATE UNIQUE INDEX users_email ON users (email);
CREATE UNIQUE INDEX users_sourced_id ON users (sourced_id);

ALTER TABLE schools ADD COLUMN sourced_id text;
CREATE UNIQUE INDEX schools_sourced_id ON schools (sourced_id);

ALTER TABLE practices ADD COLUMN retired_at text;

ALTER TABLE tokens ADD COLUMN last_used_at text;
ALTER TABLE sessions ADD COLUMN last_used_at text;
ALTER TABLE sessions ADD COLUMN via text NOT NULL DEFAULT 'password' CHECK (via IN ('password', 'oidc'));
ALTER TABLE sessions ADD COLUMN client text NOT NULL DEFAULT '';

CREATE TABLE oidc_logins (
    state_hash  text PRIMARY KEY,
    nonce       text NOT NULL,
    verifier    text NOT NULL,
    next        text NOT NULL DEFAULT '/',
    expires_at  bigint NOT NULL
);

CREATE TRIGGER gen_practices_ad AFTER DELETE ON practices
    FOR EACH ROW EXECUTE FUNCTION kd_gen_bump();
CREATE TRIGGER gen_practices_ai AFTER INSERT ON practices
    FOR EACH ROW EXECUTE FUNCTION kd_gen_bump();
