"""The batch jobs on cron triggers in UTC, run only by the leader, with catch-up semantics:
each run processes everything due up to its start, so a missed night is made up."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from commands.ports import Clock
from scheduler.leadership import Leadership

logger = logging.getLogger(__name__)

DEFAULT_SCHEDULES = {
    "recurring-prepayment": "0 1 * * *",
    "recurring-payment": "30 1 * * *",
    "invoice-production": "0 2 * * *",
}
# A run missed by hours (a restart, a long GC) still runs: jobs catch up by design.
MISFIRE_GRACE_SECONDS = 12 * 3600


def schedules_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """CHARGELEDGER_SCHEDULE_RECURRING_PREPAYMENT="0 1 * * *" and so on; "off" disables one."""
    env = os.environ if environ is None else environ
    result = {}
    for job, default in DEFAULT_SCHEDULES.items():
        value = env.get("CHARGELEDGER_SCHEDULE_" + job.upper().replace("-", "_"), default).strip()
        if value.lower() != "off":
            result[job] = value
    return result


def leader_only(
    job: str, run: Callable[[str, datetime], Any], leadership: Leadership, clock: Clock
) -> Callable[[], None]:
    def fire() -> None:
        if not leadership.holds():
            logger.info("not the scheduler leader; job left to the leader", extra={"job": job})
            return
        try:
            run(job, clock.now())
        except Exception:
            logger.exception("scheduled job failed", extra={"job": job})

    return fire


def build_scheduler(
    run: Callable[[str, datetime], Any],
    leadership: Leadership,
    clock: Clock,
    schedules: Mapping[str, str],
    *,
    blocking: bool = False,
) -> BackgroundScheduler | BlockingScheduler:
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    for job, crontab in schedules.items():
        scheduler.add_job(
            leader_only(job, run, leadership, clock),
            CronTrigger.from_crontab(crontab, timezone=UTC),
            id=job,
            name=job,
            replace_existing=True,
        )
    return scheduler


def scheduled_instants(
    schedules: Mapping[str, str], after: datetime, until: datetime
) -> list[tuple[datetime, str]]:
    """Every (instant, job) the cron schedules fire at after `after` and up to `until`, in
    time order (jobs due at one instant in the order the schedules name them)."""
    fired: list[tuple[datetime, int, str]] = []
    for order, (job, crontab) in enumerate(schedules.items()):
        trigger = CronTrigger.from_crontab(crontab, timezone=UTC)
        previous: datetime | None = None
        moment = after
        while (next_fire := trigger.get_next_fire_time(previous, moment)) is not None and next_fire <= until:
            if next_fire > after:
                fired.append((next_fire.astimezone(UTC), order, job))
            previous, moment = next_fire, next_fire + timedelta(microseconds=1)
    return [(instant, job) for instant, _, job in sorted(fired)]
