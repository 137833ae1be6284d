-- Billing time: the EMP's time zone and test clock in the emps read model (every EMP before
-- this migration is on UTC and the real clock); ended subscriptions; a base package replaced
-- by another.

ALTER TABLE emps
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC',
    ADD COLUMN test_clock_now timestamptz;

ALTER TABLE subscriptions
    ADD COLUMN ended_at timestamptz;


-- A job run covers one EMP, or (NULL) every EMP on the real clock.
ALTER TABLE job_runs ADD COLUMN emp_id uuid;
