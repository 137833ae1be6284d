"""Test clocks: an EMP created with one takes every business "now" from it, and moving it runs
that EMP's batch jobs at every scheduled instant passed, in time order, as the scheduler would
have run them (on the default daily schedule, whatever the serving process's settings say)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from commands.application import position_of
from commands.jobs import JobRun
from commands.unit_of_work import Services, retrying
from scheduler.schedule import DEFAULT_SCHEDULES, scheduled_instants

RunJob = Callable[[str, datetime, UUID], JobRun]  # job, as_of, emp_id


def advance_test_clock(
    services: Services, emp_id: UUID, to: datetime, *, run_jobs: bool, run_job: RunJob, actor: str
) -> tuple[datetime, list[JobRun]]:
    """Move the EMP's test clock to `to`; with `run_jobs`, stop at each scheduled instant on
    the way and run the jobs due then. Returns the clock's time and the runs, in order."""
    emp = services.ledger.get_emp(emp_id)
    start = emp.test_clock_now
    emp.advance_test_clock(to, occurred_at=to, caused_by=actor)  # refuses a wrong move up front
    assert start is not None
    runs: list[JobRun] = []
    stops = scheduled_instants(DEFAULT_SCHEDULES, start, to) if run_jobs and to > start else []
    for instant, job in stops:
        _move(services, emp_id, instant, actor)
        runs.append(run_job(job, instant, emp_id))
    _move(services, emp_id, to, actor)
    return to, runs


def _move(services: Services, emp_id: UUID, to: datetime, actor: str) -> int | None:
    def attempt() -> int | None:
        emp = services.ledger.get_emp(emp_id)
        emp.advance_test_clock(to, occurred_at=to, caused_by=actor)
        return position_of(services.ledger.save(emp)) if emp.pending_events else None

    return retrying(attempt)
