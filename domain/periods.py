"""Calendar periods. Months are calendar months in UTC; a period that starts on day 29-31
renews on the last day of shorter months and returns to its own day after."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


def add_months(anchor: datetime, months: int, day: int | None = None) -> datetime:
    """`anchor` moved by whole months, keeping `day` (default: the anchor's), clamped to the
    month's last day, at the anchor's time of day."""
    wanted = anchor.day if day is None else day
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return anchor.replace(year=year, month=month + 1, day=min(wanted, last))


@dataclass(frozen=True)
class Period:
    index: int
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.end.date() - self.start.date()).days


def renewal_period(acquired_at: datetime, index: int) -> Period:
    """The index-th period of a recurring prepaid package: renewals on the anniversary."""
    return Period(index, add_months(acquired_at, index), add_months(acquired_at, index + 1))


def renewal_periods_started_by(acquired_at: datetime, first_index: int, as_of: datetime) -> list[Period]:
    periods = []
    index = first_index
    while (period := renewal_period(acquired_at, index)).start <= as_of:
        periods.append(period)
        index += 1
    return periods


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def first_billing_date(started_at: datetime, billing_day: int) -> datetime:
    """The first date with the billing day strictly after the start day (midnight UTC)."""
    start = midnight(started_at.astimezone(UTC).date())
    candidate = add_months(start.replace(day=1), 0, billing_day)
    if candidate <= start:
        candidate = add_months(start.replace(day=1), 1, billing_day)
    return candidate


def billing_period(started_at: datetime, billing_day: int, index: int) -> Period:
    """Postpaid: the first period runs from the start day to the first billing date, then
    month by month on the billing day."""
    first_end = first_billing_date(started_at, billing_day)
    if index == 0:
        return Period(0, midnight(started_at.astimezone(UTC).date()), first_end)
    start = add_months(first_end.replace(day=1), index - 1, billing_day)
    return Period(index, start, add_months(first_end.replace(day=1), index, billing_day))


def nominal_days(period: Period, billing_day: int) -> int:
    """Days of the full month a period stands for: a short first period is prorated against
    the month ending on its end date."""
    month_before = add_months(period.end.replace(day=1), -1, billing_day)
    return (period.end.date() - month_before.date()).days


def overlap_days(period: Period, active_from: datetime, active_until: datetime | None) -> int:
    """Whole days of the period on which something was active (a day counts if it was active
    at any moment of it)."""
    first = max(period.start.date(), active_from.astimezone(UTC).date())
    end_exclusive = period.end.date()
    if active_until is not None:
        until = active_until.astimezone(UTC)
        last_day = until.date() if until.time() != time(0) else until.date() - timedelta(days=1)
        end_exclusive = min(end_exclusive, last_day + timedelta(days=1))
    return max((end_exclusive - first).days, 0)
