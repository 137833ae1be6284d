-- A job run whose process died mid-way (killed, a lost machine) is marked 'interrupted' at the
-- next start, instead of staying 'running' forever (commands/jobs.py: mark_interrupted_runs).
ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check
    CHECK (status IN ('running', 'finished', 'failed', 'interrupted'));
CREATE INDEX job_runs_running ON job_runs (id) WHERE status = 'running';
-- The process that runs it (commands/jobs.py: RunnerLock); NULL for runs from before.
ALTER TABLE job_runs ADD COLUMN runner uuid;
