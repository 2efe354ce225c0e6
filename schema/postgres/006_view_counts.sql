-- 006_view_counts.sql (PostgreSQL) - the views the summaries count, counted
-- ahead.  (As schema/006_view_counts.sql, which says what and why; only
-- what differs is said here.)
--
-- The triggers are SQLite's, translated: each a plpgsql function run FOR
-- EACH ROW; a condition (shared or not) stored into an integer column is cast
-- with ::int; IS NOT becomes IS DISTINCT FROM; ON CONFLICT names its target
-- and qualifies the column it adds to (view_counts.n); and a WHEN that asks
-- EXISTS (a trigger's WHEN cannot hold a subquery here) is asked at the top
-- of the function instead.
--
-- Deleting a clip: as in SQLite the BEFORE DELETE trigger takes the clip's
-- views out of the counts while it can still see them.  The cascades to
-- views and clip_practices run after the clip row is gone (PostgreSQL's
-- are AFTER triggers of the DELETE), so the triggers on those find no clip
-- and do nothing.  A statement's AFTER ROW triggers run once the whole
-- statement is done (SQLite's run row by row); none of these reads the
-- table it is on, so a statement changing several rows counts the same.

CREATE TABLE view_counts (
    clip_school_id bigint NOT NULL,
    day            text NOT NULL,
    shared         bigint NOT NULL,
    n              bigint NOT NULL,
    PRIMARY KEY (clip_school_id, day, shared)
);

CREATE TABLE view_practice_counts (
    viewer_school_id bigint NOT NULL,
    practice_id      bigint NOT NULL,
    day              text NOT NULL,
    clip_school_id   bigint NOT NULL,
    n                bigint NOT NULL,
    PRIMARY KEY (viewer_school_id, practice_id, day, clip_school_id)
);

-- What is already there.
INSERT INTO view_counts (clip_school_id, day, shared, n)
SELECT c.school_id, v.day,
       (c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school'))::int,
       count(*)
  FROM views v JOIN clips c ON c.id = v.clip_id
 WHERE v.school_id != c.school_id
 GROUP BY 1, 2, 3;

INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
SELECT v.school_id, cp.practice_id, v.day, c.school_id, count(*)
  FROM views v JOIN clips c ON c.id = v.clip_id JOIN clip_practices cp ON cp.clip_id = c.id
 WHERE v.school_id != c.school_id
 GROUP BY 1, 2, 3, 4;

-- A view comes, goes or changes (its viewer's school set to NULL when the
-- school is deleted).  "v.school_id != c.school_id" is never true for a
-- NULL school: such views are not counted.
CREATE FUNCTION kd_vc_views_ai() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO view_counts (clip_school_id, day, shared, n)
    SELECT c.school_id, NEW.day,
           (c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school'))::int,
           1
      FROM clips c WHERE c.id = NEW.clip_id AND c.school_id != NEW.school_id
    ON CONFLICT (clip_school_id, day, shared) DO UPDATE SET n = view_counts.n + 1;
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT NEW.school_id, cp.practice_id, NEW.day, c.school_id, 1
      FROM clips c JOIN clip_practices cp ON cp.clip_id = c.id
     WHERE c.id = NEW.clip_id AND c.school_id != NEW.school_id
    ON CONFLICT (viewer_school_id, practice_id, day, clip_school_id)
    DO UPDATE SET n = view_practice_counts.n + 1;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER vc_views_ai AFTER INSERT ON views
    FOR EACH ROW EXECUTE FUNCTION kd_vc_views_ai();

CREATE FUNCTION kd_vc_views_ad() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE view_counts SET n = n - 1
     WHERE (clip_school_id, day, shared) =
           (SELECT c.school_id, OLD.day,
                   (c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school'))::int
              FROM clips c WHERE c.id = OLD.clip_id AND c.school_id != OLD.school_id);
    UPDATE view_practice_counts SET n = n - 1
     WHERE viewer_school_id = OLD.school_id AND day = OLD.day
       AND clip_school_id = (SELECT c.school_id FROM clips c
                              WHERE c.id = OLD.clip_id AND c.school_id != OLD.school_id)
       AND practice_id IN (SELECT practice_id FROM clip_practices WHERE clip_id = OLD.clip_id);
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER vc_views_ad AFTER DELETE ON views
    FOR EACH ROW EXECUTE FUNCTION kd_vc_views_ad();

CREATE FUNCTION kd_vc_views_au() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE view_counts SET n = n - 1
     WHERE (clip_school_id, day, shared) =
           (SELECT c.school_id, OLD.day,
                   (c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school'))::int
              FROM clips c WHERE c.id = OLD.clip_id AND c.school_id != OLD.school_id);
    UPDATE view_practice_counts SET n = n - 1
     WHERE viewer_school_id = OLD.school_id AND day = OLD.day
       AND clip_school_id = (SELECT c.school_id FROM clips c
                              WHERE c.id = OLD.clip_id AND c.school_id != OLD.school_id)
       AND practice_id IN (SELECT practice_id FROM clip_practices WHERE clip_id = OLD.clip_id);
    INSERT INTO view_counts (clip_school_id, day, shared, n)
    SELECT c.school_id, NEW.day,
           (c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school'))::int,
           1
      FROM clips c WHERE c.id = NEW.clip_id AND c.school_id != NEW.school_id
    ON CONFLICT (clip_school_id, day, shared) DO UPDATE SET n = view_counts.n + 1;
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT NEW.school_id, cp.practice_id, NEW.day, c.school_id, 1
      FROM clips c JOIN clip_practices cp ON cp.clip_id = c.id
     WHERE c.id = NEW.clip_id AND c.school_id != NEW.school_id
    ON CONFLICT (viewer_school_id, practice_id, day, clip_school_id)
    DO UPDATE SET n = view_practice_counts.n + 1;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER vc_views_au AFTER UPDATE ON views
    FOR EACH ROW EXECUTE FUNCTION kd_vc_views_au();

-- A clip moves to another school or starts or stops being shared: its
-- views move from the old counts to the new.  (SQLite's WHEN also asks that
-- the clip has views: asked first in the function.)
CREATE FUNCTION kd_vc_clips_au() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM views WHERE clip_id = NEW.id) THEN
        RETURN NULL;
    END IF;
    UPDATE view_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.id
                       AND v.day = view_counts.day AND v.school_id != OLD.school_id)
     WHERE clip_school_id = OLD.school_id
       AND shared = (OLD.status = 'ready' AND OLD.consent = 'on-file'
                     AND OLD.visibility IN ('district', 'school'))::int
       AND day IN (SELECT day FROM views WHERE clip_id = OLD.id AND school_id != OLD.school_id);
    INSERT INTO view_counts (clip_school_id, day, shared, n)
    SELECT NEW.school_id, v.day,
           (NEW.status = 'ready' AND NEW.consent = 'on-file' AND NEW.visibility IN ('district', 'school'))::int,
           count(*)
      FROM views v WHERE v.clip_id = NEW.id AND v.school_id != NEW.school_id
     GROUP BY v.day
    ON CONFLICT (clip_school_id, day, shared) DO UPDATE SET n = view_counts.n + excluded.n;
    UPDATE view_practice_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.id
                       AND v.school_id = view_practice_counts.viewer_school_id
                       AND v.day = view_practice_counts.day)
     WHERE OLD.school_id IS DISTINCT FROM NEW.school_id AND clip_school_id = OLD.school_id
       AND practice_id IN (SELECT practice_id FROM clip_practices WHERE clip_id = OLD.id)
       AND (viewer_school_id, day) IN (SELECT school_id, day FROM views
                                        WHERE clip_id = OLD.id AND school_id != OLD.school_id);
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT v.school_id, cp.practice_id, v.day, NEW.school_id, count(*)
      FROM views v JOIN clip_practices cp ON cp.clip_id = v.clip_id
     WHERE OLD.school_id IS DISTINCT FROM NEW.school_id AND v.clip_id = NEW.id
       AND v.school_id != NEW.school_id
     GROUP BY v.school_id, cp.practice_id, v.day
    ON CONFLICT (viewer_school_id, practice_id, day, clip_school_id)
    DO UPDATE SET n = view_practice_counts.n + excluded.n;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER vc_clips_au AFTER UPDATE OF school_id, status, consent, visibility ON clips
    FOR EACH ROW
    WHEN (OLD.school_id IS DISTINCT FROM NEW.school_id
          OR (OLD.status = 'ready' AND OLD.consent = 'on-file'
              AND OLD.visibility IN ('district', 'school'))
             IS DISTINCT FROM (NEW.status = 'ready' AND NEW.consent = 'on-file'
                               AND NEW.visibility IN ('district', 'school')))
    EXECUTE FUNCTION kd_vc_clips_au();

-- A clip goes: its views leave the counts now, while the clip, its views
-- and its practices can still be read (the cascades come after the row is
-- gone, and then find nothing to do).
CREATE FUNCTION kd_vc_clips_bd() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM views WHERE clip_id = OLD.id) THEN
        RETURN OLD;
    END IF;
    UPDATE view_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.id
                       AND v.day = view_counts.day AND v.school_id != OLD.school_id)
     WHERE clip_school_id = OLD.school_id
       AND shared = (OLD.status = 'ready' AND OLD.consent = 'on-file'
                     AND OLD.visibility IN ('district', 'school'))::int
       AND day IN (SELECT day FROM views WHERE clip_id = OLD.id AND school_id != OLD.school_id);
    UPDATE view_practice_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.id
                       AND v.school_id = view_practice_counts.viewer_school_id
                       AND v.day = view_practice_counts.day)
     WHERE clip_school_id = OLD.school_id
       AND practice_id IN (SELECT practice_id FROM clip_practices WHERE clip_id = OLD.id)
       AND (viewer_school_id, day) IN (SELECT school_id, day FROM views
                                        WHERE clip_id = OLD.id AND school_id != OLD.school_id);
    RETURN OLD; -- the delete goes ahead
END;
$fn$;
CREATE TRIGGER vc_clips_bd BEFORE DELETE ON clips
    FOR EACH ROW EXECUTE FUNCTION kd_vc_clips_bd();

-- A clip gains or loses a practice: its views count for it, or no longer.
CREATE FUNCTION kd_vc_clip_practices_ai() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM views WHERE clip_id = NEW.clip_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT v.school_id, NEW.practice_id, v.day, c.school_id, count(*)
      FROM views v JOIN clips c ON c.id = v.clip_id
     WHERE v.clip_id = NEW.clip_id AND v.school_id != c.school_id
     GROUP BY v.school_id, v.day, c.school_id
    ON CONFLICT (viewer_school_id, practice_id, day, clip_school_id)
    DO UPDATE SET n = view_practice_counts.n + excluded.n;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER vc_clip_practices_ai AFTER INSERT ON clip_practices
    FOR EACH ROW EXECUTE FUNCTION kd_vc_clip_practices_ai();

CREATE FUNCTION kd_vc_clip_practices_ad() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM views WHERE clip_id = OLD.clip_id) THEN
        RETURN NULL;
    END IF;
    UPDATE view_practice_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.clip_id
                       AND v.school_id = view_practice_counts.viewer_school_id
                       AND v.day = view_practice_counts.day)
     WHERE practice_id = OLD.practice_id
       AND clip_school_id = (SELECT school_id FROM clips WHERE id = OLD.clip_id)
       AND (viewer_school_id, day) IN
           (SELECT v.school_id, v.day FROM views v JOIN clips c ON c.id = v.clip_id
             WHERE v.clip_id = OLD.clip_id AND v.school_id != c.school_id);
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER vc_clip_practices_ad AFTER DELETE ON clip_practices
    FOR EACH ROW EXECUTE FUNCTION kd_vc_clip_practices_ad();

CREATE FUNCTION kd_vc_clip_practices_au() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM views WHERE clip_id IN (OLD.clip_id, NEW.clip_id)) THEN
        RETURN NULL;
    END IF;
    UPDATE view_practice_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.clip_id
                       AND v.school_id = view_practice_counts.viewer_school_id
                       AND v.day = view_practice_counts.day)
     WHERE practice_id = OLD.practice_id
       AND clip_school_id = (SELECT school_id FROM clips WHERE id = OLD.clip_id)
       AND (viewer_school_id, day) IN
           (SELECT v.school_id, v.day FROM views v JOIN clips c ON c.id = v.clip_id
             WHERE v.clip_id = OLD.clip_id AND v.school_id != c.school_id);
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT v.school_id, NEW.practice_id, v.day, c.school_id, count(*)
      FROM views v JOIN clips c ON c.id = v.clip_id
     WHERE v.clip_id = NEW.clip_id AND v.school_id != c.school_id
     GROUP BY v.school_id, v.day, c.school_id
    ON CONFLICT (viewer_school_id, practice_id, day, clip_school_id)
    DO UPDATE SET n = view_practice_counts.n + excluded.n;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER vc_clip_practices_au AFTER UPDATE ON clip_practices
    FOR EACH ROW EXECUTE FUNCTION kd_vc_clip_practices_au();
