-- 007_job_leases.sql (PostgreSQL) - jobs held by processing nodes (`kindling
-- work`, and servers that process): the node (machine) whose runner process
-- holds a running job, and until when (seconds since 1970) its hold lasts
-- unless the runner renews it.  (As schema/007_job_leases.sql.)
ALTER TABLE jobs ADD COLUMN node text;
ALTER TABLE jobs ADD COLUMN lease_until bigint;
