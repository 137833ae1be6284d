"""The scheduler: cron triggers in UTC, one leader by advisory lock, jobs fired only there."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger

from commands.ports import ManualClock
from scheduler.leadership import Leadership
from scheduler.schedule import MISFIRE_GRACE_SECONDS, build_scheduler, leader_only, schedules_from_env


def test_only_one_process_leads(fresh_database_url: str) -> None:
    first, second = Leadership(fresh_database_url), Leadership(fresh_database_url)
    try:
        assert first.holds() is True
        assert second.holds() is False
        assert first.holds() is True  # still held
        first.release()
        assert second.holds() is True
        assert first.holds() is False
    finally:
        first.release()
        second.release()


def test_jobs_fire_only_on_the_leader(fresh_database_url: str) -> None:
    clock = ManualClock(datetime(2026, 3, 1, 1, tzinfo=UTC))
    leader, follower = Leadership(fresh_database_url), Leadership(fresh_database_url)
    calls: list[tuple[str, str, datetime]] = []
    try:
        assert leader.holds()
        leader_only(
            "invoice-production", lambda job, as_of: calls.append(("leader", job, as_of)), leader, clock
        )()
        leader_only(
            "invoice-production", lambda job, as_of: calls.append(("follower", job, as_of)), follower, clock
        )()
    finally:
        leader.release()
        follower.release()
    assert calls == [("leader", "invoice-production", clock.now())]


def test_the_scheduler_runs_each_job_on_its_cron_trigger(fresh_database_url: str) -> None:
    fired = threading.Event()
    seen: list[str] = []
    leadership = Leadership(fresh_database_url)
    clock = ManualClock(datetime(2026, 3, 1, 1, tzinfo=UTC))

    def run(job: str, as_of: datetime) -> None:
        seen.append(job)
        fired.set()

    scheduler = build_scheduler(run, leadership, clock, schedules_from_env({}))
    # Started paused, the other jobs held: run at 01:00, 01:30 or 02:00 UTC, their own
    # triggers would fire too, and `seen` would hold more than the job fired here.
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"recurring-prepayment", "recurring-payment", "invoice-production"}
        for job in jobs.values():
            assert isinstance(job.trigger, CronTrigger)
            assert str(job.trigger.timezone) == "UTC"
            assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS and job.coalesce
        for other in set(jobs) - {"invoice-production"}:
            scheduler.pause_job(other)
        scheduler.modify_job("invoice-production", next_run_time=datetime.now(UTC))
        scheduler.resume()
        assert fired.wait(10)
        assert seen == ["invoice-production"]
    finally:
        scheduler.shutdown(wait=True)
        leadership.release()


def test_schedules_are_configurable_and_can_be_switched_off() -> None:
    schedules = schedules_from_env(
        {
            "CHARGELEDGER_SCHEDULE_INVOICE_PRODUCTION": "0 4 1 * *",
            "CHARGELEDGER_SCHEDULE_RECURRING_PAYMENT": "off",
        }
    )
    assert schedules == {"recurring-prepayment": "0 1 * * *", "invoice-production": "0 4 1 * *"}
