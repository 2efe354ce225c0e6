-- Jobs held by processing nodes (`kindling work`, and servers that process):
-- the node (machine) whose runner process holds a running job, and until when
-- (seconds since 1970) its hold lasts unless the runner renews it.  A job
-- held by a process of this machine that no longer exists is taken back at
-- once; one held by another machine, once its lease has run out, so that a
-- node that dies mid-job has its job finished by another.
ALTER TABLE jobs ADD COLUMN node TEXT;
ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
