-- 002_generation.sql - a number that changes whenever anything a listing
-- shows or counts changes, so the server can keep counts in memory and know
-- when they are stale.  Triggers keep it in step, whichever process writes.

CREATE TABLE catalogue_generation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    gen INTEGER NOT NULL
);
-- A random start, so two catalogues (a test opening several) never share
-- a generation number and so never each other's remembered counts.
INSERT INTO catalogue_generation (id, gen) VALUES (1, abs(random() % 1000000000000000));

CREATE TRIGGER gen_clips_ai AFTER INSERT ON clips BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_clips_au AFTER UPDATE ON clips BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_clips_ad AFTER DELETE ON clips BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_clip_practices_ai AFTER INSERT ON clip_practices BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_clip_practices_ad AFTER DELETE ON clip_practices BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_clip_tags_ai AFTER INSERT ON clip_tags BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_clip_tags_ad AFTER DELETE ON clip_tags BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_schools_au AFTER UPDATE ON schools BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_practices_au AFTER UPDATE ON practices BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
CREATE TRIGGER gen_users_au AFTER UPDATE OF school_id, role ON users BEGIN
    UPDATE catalogue_generation SET gen = gen + 1;
END;
