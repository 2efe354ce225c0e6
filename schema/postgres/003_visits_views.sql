-- 003_visits_views.sql (PostgreSQL) - what the summaries read: visits by the
-- school they were made from, and views by clip and day.  (As
-- schema/003_visits_views.sql.)

CREATE INDEX visits_visitor ON visits (visitor_school_id, status);
CREATE INDEX visits_clip ON visits (clip_id);
CREATE INDEX views_clip_day ON views (clip_id, day);
