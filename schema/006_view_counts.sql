-- 006_view_counts.sql - the views the summaries count, counted ahead.
--
-- A summary asks how many times another school's people watched a
-- school's clips over a date range, and when a school's people first
-- watched another school's clip of a practice.  Read from views, both grow
-- with every view ever recorded (one row per viewer, clip and day); these
-- two tables hold the same answers per day, so a summary reads a few
-- hundred rows whatever the number of views.  Only views that matter are
-- counted: a viewer with a school (views.school_id), watching a clip of
-- another school.
--
-- view_counts: per clip school and day, whether the clip is shared (ready,
-- consent on file, visible to the district or its school: what a principal
-- sees of their own school without having uploaded it).
-- view_practice_counts: per viewer school, practice of the clip, day and
-- clip school.
--
-- The triggers below keep both in step with views, clips and
-- clip_practices, whichever process writes; those on clips and
-- clip_practices look for the clip's views first, so that a clip nobody
-- has watched (every new one, every one the seed makes) costs one probe.  A count may reach 0 and stay
-- as a row: readers ask for n > 0 where it matters.  A clip's deletion
-- cascades to its views and practices after the clip is gone, so the
-- triggers on those find no clip and do nothing; the clip's own BEFORE
-- DELETE trigger takes its views out while it can still see them.

CREATE TABLE view_counts (
    clip_school_id INTEGER NOT NULL,
    day            TEXT NOT NULL,
    shared         INTEGER NOT NULL,
    n              INTEGER NOT NULL,
    PRIMARY KEY (clip_school_id, day, shared)
) WITHOUT ROWID;

CREATE TABLE view_practice_counts (
    viewer_school_id INTEGER NOT NULL,
    practice_id      INTEGER NOT NULL,
    day              TEXT NOT NULL,
    clip_school_id   INTEGER NOT NULL,
    n                INTEGER NOT NULL,
    PRIMARY KEY (viewer_school_id, practice_id, day, clip_school_id)
) WITHOUT ROWID;

-- What is already there.
INSERT INTO view_counts (clip_school_id, day, shared, n)
SELECT c.school_id, v.day,
       c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school'),
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
CREATE TRIGGER vc_views_ai AFTER INSERT ON views BEGIN
    INSERT INTO view_counts (clip_school_id, day, shared, n)
    SELECT c.school_id, NEW.day,
           c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school'),
           1
      FROM clips c WHERE c.id = NEW.clip_id AND c.school_id != NEW.school_id
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT NEW.school_id, cp.practice_id, NEW.day, c.school_id, 1
      FROM clips c JOIN clip_practices cp ON cp.clip_id = c.id
     WHERE c.id = NEW.clip_id AND c.school_id != NEW.school_id
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER vc_views_ad AFTER DELETE ON views BEGIN
    UPDATE view_counts SET n = n - 1
     WHERE (clip_school_id, day, shared) =
           (SELECT c.school_id, OLD.day,
                   c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school')
              FROM clips c WHERE c.id = OLD.clip_id AND c.school_id != OLD.school_id);
    UPDATE view_practice_counts SET n = n - 1
     WHERE viewer_school_id = OLD.school_id AND day = OLD.day
       AND clip_school_id = (SELECT c.school_id FROM clips c
                              WHERE c.id = OLD.clip_id AND c.school_id != OLD.school_id)
       AND practice_id IN (SELECT practice_id FROM clip_practices WHERE clip_id = OLD.clip_id);
END;

CREATE TRIGGER vc_views_au AFTER UPDATE ON views BEGIN
    UPDATE view_counts SET n = n - 1
     WHERE (clip_school_id, day, shared) =
           (SELECT c.school_id, OLD.day,
                   c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school')
              FROM clips c WHERE c.id = OLD.clip_id AND c.school_id != OLD.school_id);
    UPDATE view_practice_counts SET n = n - 1
     WHERE viewer_school_id = OLD.school_id AND day = OLD.day
       AND clip_school_id = (SELECT c.school_id FROM clips c
                              WHERE c.id = OLD.clip_id AND c.school_id != OLD.school_id)
       AND practice_id IN (SELECT practice_id FROM clip_practices WHERE clip_id = OLD.clip_id);
    INSERT INTO view_counts (clip_school_id, day, shared, n)
    SELECT c.school_id, NEW.day,
           c.status = 'ready' AND c.consent = 'on-file' AND c.visibility IN ('district', 'school'),
           1
      FROM clips c WHERE c.id = NEW.clip_id AND c.school_id != NEW.school_id
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT NEW.school_id, cp.practice_id, NEW.day, c.school_id, 1
      FROM clips c JOIN clip_practices cp ON cp.clip_id = c.id
     WHERE c.id = NEW.clip_id AND c.school_id != NEW.school_id
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- A clip moves to another school or starts or stops being shared: its
-- views move from the old counts to the new.
CREATE TRIGGER vc_clips_au AFTER UPDATE OF school_id, status, consent, visibility ON clips
WHEN (OLD.school_id IS NOT NEW.school_id
      OR (OLD.status = 'ready' AND OLD.consent = 'on-file'
          AND OLD.visibility IN ('district', 'school'))
         IS NOT (NEW.status = 'ready' AND NEW.consent = 'on-file'
                 AND NEW.visibility IN ('district', 'school')))
 AND EXISTS (SELECT 1 FROM views WHERE clip_id = NEW.id)
BEGIN
    UPDATE view_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.id
                       AND v.day = view_counts.day AND v.school_id != OLD.school_id)
     WHERE clip_school_id = OLD.school_id
       AND shared = (OLD.status = 'ready' AND OLD.consent = 'on-file'
                     AND OLD.visibility IN ('district', 'school'))
       AND day IN (SELECT day FROM views WHERE clip_id = OLD.id AND school_id != OLD.school_id);
    INSERT INTO view_counts (clip_school_id, day, shared, n)
    SELECT NEW.school_id, v.day,
           NEW.status = 'ready' AND NEW.consent = 'on-file' AND NEW.visibility IN ('district', 'school'),
           count(*)
      FROM views v WHERE v.clip_id = NEW.id AND v.school_id != NEW.school_id
     GROUP BY v.day
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
    UPDATE view_practice_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.id
                       AND v.school_id = view_practice_counts.viewer_school_id
                       AND v.day = view_practice_counts.day)
     WHERE OLD.school_id IS NOT NEW.school_id AND clip_school_id = OLD.school_id
       AND practice_id IN (SELECT practice_id FROM clip_practices WHERE clip_id = OLD.id)
       AND (viewer_school_id, day) IN (SELECT school_id, day FROM views
                                        WHERE clip_id = OLD.id AND school_id != OLD.school_id);
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT v.school_id, cp.practice_id, v.day, NEW.school_id, count(*)
      FROM views v JOIN clip_practices cp ON cp.clip_id = v.clip_id
     WHERE OLD.school_id IS NOT NEW.school_id AND v.clip_id = NEW.id
       AND v.school_id != NEW.school_id
     GROUP BY v.school_id, cp.practice_id, v.day
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

-- A clip goes: its views leave the counts now, while the clip, its views
-- and its practices can still be read (the cascades come after the row is
-- gone, and then find nothing to do).
CREATE TRIGGER vc_clips_bd BEFORE DELETE ON clips
WHEN EXISTS (SELECT 1 FROM views WHERE clip_id = OLD.id)
BEGIN
    UPDATE view_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.id
                       AND v.day = view_counts.day AND v.school_id != OLD.school_id)
     WHERE clip_school_id = OLD.school_id
       AND shared = (OLD.status = 'ready' AND OLD.consent = 'on-file'
                     AND OLD.visibility IN ('district', 'school'))
       AND day IN (SELECT day FROM views WHERE clip_id = OLD.id AND school_id != OLD.school_id);
    UPDATE view_practice_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.id
                       AND v.school_id = view_practice_counts.viewer_school_id
                       AND v.day = view_practice_counts.day)
     WHERE clip_school_id = OLD.school_id
       AND practice_id IN (SELECT practice_id FROM clip_practices WHERE clip_id = OLD.id)
       AND (viewer_school_id, day) IN (SELECT school_id, day FROM views
                                        WHERE clip_id = OLD.id AND school_id != OLD.school_id);
END;

-- A clip gains or loses a practice: its views count for it, or no longer.
CREATE TRIGGER vc_clip_practices_ai AFTER INSERT ON clip_practices
WHEN EXISTS (SELECT 1 FROM views WHERE clip_id = NEW.clip_id)
BEGIN
    INSERT INTO view_practice_counts (viewer_school_id, practice_id, day, clip_school_id, n)
    SELECT v.school_id, NEW.practice_id, v.day, c.school_id, count(*)
      FROM views v JOIN clips c ON c.id = v.clip_id
     WHERE v.clip_id = NEW.clip_id AND v.school_id != c.school_id
     GROUP BY v.school_id, v.day
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER vc_clip_practices_ad AFTER DELETE ON clip_practices
WHEN EXISTS (SELECT 1 FROM views WHERE clip_id = OLD.clip_id)
BEGIN
    UPDATE view_practice_counts
       SET n = n - (SELECT count(*) FROM views v WHERE v.clip_id = OLD.clip_id
                       AND v.school_id = view_practice_counts.viewer_school_id
                       AND v.day = view_practice_counts.day)
     WHERE practice_id = OLD.practice_id
       AND clip_school_id = (SELECT school_id FROM clips WHERE id = OLD.clip_id)
       AND (viewer_school_id, day) IN
           (SELECT v.school_id, v.day FROM views v JOIN clips c ON c.id = v.clip_id
             WHERE v.clip_id = OLD.clip_id AND v.school_id != c.school_id);
END;

CREATE TRIGGER vc_clip_practices_au AFTER UPDATE ON clip_practices
WHEN EXISTS (SELECT 1 FROM views WHERE clip_id IN (OLD.clip_id, NEW.clip_id))
BEGIN
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
     GROUP BY v.school_id, v.day
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
