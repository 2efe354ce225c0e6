-- 005_changes.sql - which clips changed, in order, so that a process
-- keeping the catalogue in memory (the server's index, catalogue/index.c)
-- brings itself up to date by reading only what changed since it last
-- looked, whichever process wrote it.  clip_id 0 means "names changed"
-- (a school, a practice or a person renamed): reload everything.

CREATE TABLE clip_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    clip_id INTEGER NOT NULL
);

CREATE TRIGGER chg_clips_ai AFTER INSERT ON clips BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (NEW.id);
END;
CREATE TRIGGER chg_clips_au AFTER UPDATE ON clips BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (NEW.id);
END;
CREATE TRIGGER chg_clips_ad AFTER DELETE ON clips BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (OLD.id);
END;
CREATE TRIGGER chg_clip_practices_ai AFTER INSERT ON clip_practices BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (NEW.clip_id);
END;
CREATE TRIGGER chg_clip_practices_ad AFTER DELETE ON clip_practices BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (OLD.clip_id);
END;
CREATE TRIGGER chg_clip_tags_ai AFTER INSERT ON clip_tags BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (NEW.clip_id);
END;
CREATE TRIGGER chg_clip_tags_ad AFTER DELETE ON clip_tags BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (OLD.clip_id);
END;
CREATE TRIGGER chg_schools_au AFTER UPDATE ON schools BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (0);
END;
CREATE TRIGGER chg_schools_ai AFTER INSERT ON schools BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (0);
END;
CREATE TRIGGER chg_practices_au AFTER UPDATE ON practices BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (0);
END;
CREATE TRIGGER chg_practices_ai AFTER INSERT ON practices BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (0);
END;
CREATE TRIGGER chg_practices_ad AFTER DELETE ON practices BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (0);
END;
CREATE TRIGGER chg_schools_ad AFTER DELETE ON schools BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (0);
END;
CREATE TRIGGER chg_users_name_au AFTER UPDATE OF name ON users BEGIN
    INSERT INTO clip_changes (clip_id) VALUES (0);
END;
-- A random start, as for the generation (002): an index that finds a
-- number it did not expect reloads, so two catalogues (or one restored
-- from a backup) are never mistaken for each other.
INSERT INTO clip_changes (seq, clip_id) VALUES (abs(random() % 1000000000000000), 0);
