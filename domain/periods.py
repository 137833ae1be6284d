"""Calendar periods in an EMP's time zone: months are calendar months there, a period runs from
local midnight to local midnight (across DST changes too), and a period on day 29-31 renews on
the last day of shorter months and returns to its own day after.

A period follows from where the one before ended, so a new time zone applies from each
subscription's next period: the period then ends at the next local midnight of its day at
least a day after its start."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from domain.errors import ValidationFailed

DEFAULT_TIME_ZONE = "UTC"


@lru_cache(maxsize=512)
def zone_of(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA time zone of that name; ValidationFailed naming `field` for an unknown one."""
    if name not in known_zones():
        raise ValidationFailed(
            f"{field}: unknown IANA time zone {name!r} (e.g. Europe/Helsinki)", field=field
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"{field}: unknown IANA time zone {name!r}", field=field) from None


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """Every IANA time zone name an EMP may have."""
    return frozenset(available_timezones()) | {"UTC"}


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (in UTC) the local day begins. Where a DST change skips midnight, the day
    begins at the first local instant after it."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def day_start(instant: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight of the day `instant` falls on."""
    return local_midnight(local_date(instant, zone), zone)


def add_months(day: date, months: int, day_of_month: int | None = None) -> date:
    """`day` moved by whole months, on `day_of_month` (default: its own), clamped to the
    month's last day."""
    wanted = day.day if day_of_month is None else day_of_month
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(wanted, last))


def next_date_on(day: date, day_of_month: int) -> date:
    """The first date after `day` that falls on `day_of_month` (clamped in short months)."""
    candidate = add_months(day.replace(day=1), 0, day_of_month)
    return candidate if candidate > day else add_months(day.replace(day=1), 1, day_of_month)


@dataclass(frozen=True)
class Period:
    index: int
    start: datetime
    end: datetime
    days: int  # local calendar days from the start's to the end's

    def ending_at(self, end: datetime, zone: ZoneInfo) -> Period:
        """The period cut short at `end` (an ended subscription's last period)."""
        return period_between(self.index, self.start, end, zone)


def period_between(index: int, start: datetime, end: datetime, zone: ZoneInfo) -> Period:
    return Period(index, start, end, (local_date(end, zone) - local_date(start, zone)).days)


def next_period(index: int, start: datetime, day_of_month: int, zone: ZoneInfo) -> Period:
    """The period that begins at `start` and ends at the local midnight of the next date on
    `day_of_month`: the first date after the start's own for a first period (which may be
    short), else the first date a day or more after the start (a period that began under
    another time zone keeps its length)."""
    anchor = local_date(start, zone) if index == 0 else local_date(start + timedelta(days=1), zone)
    return period_between(index, start, local_midnight(next_date_on(anchor, day_of_month), zone), zone)


def periods_from(index: int, start: datetime, day_of_month: int, zone: ZoneInfo) -> Iterator[Period]:
    """Periods one after another from `start` (the `index`-th period's start)."""
    while True:
        period = next_period(index, start, day_of_month, zone)
        yield period
        index, start = index + 1, period.end


def billing_period(started_at: datetime, billing_day: int, index: int, zone: ZoneInfo) -> Period:
    """A postpaid subscription's `index`-th period: the first runs from its start day to the
    first billing date, then month by month on the billing day."""
    for period in periods_from(0, day_start(started_at, zone), billing_day, zone):
        if period.index == index:
            return period
    raise AssertionError("unreachable")


def nominal_days(period: Period, day_of_month: int, zone: ZoneInfo) -> int:
    """Days of the full month a period stands for: the cycle, from one date on `day_of_month`
    to the next, that holds the period's first day (a short first period, a last one cut at
    an end, a new package's first one all count against their own month)."""
    first = local_date(period.start, zone)
    this_month = add_months(first.replace(day=1), 0, day_of_month)
    since = this_month if this_month <= first else add_months(first.replace(day=1), -1, day_of_month)
    return (next_date_on(since, day_of_month) - since).days


def overlap_days(period: Period, active_from: datetime, active_until: datetime | None, zone: ZoneInfo) -> int:
    """Local days of the period on which something was active (a day counts if it was active
    at any moment of it; `active_until` is exclusive)."""
    first = max(local_date(period.start, zone), local_date(active_from, zone))
    end_exclusive = local_date(period.end, zone)
    if active_until is not None:
        until = active_until.astimezone(zone)
        last_day = until.date() if until.time() != time(0) else until.date() - timedelta(days=1)
        end_exclusive = min(end_exclusive, last_day + timedelta(days=1))
    return max((end_exclusive - first).days, 0)
