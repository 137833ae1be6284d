"""Calendar periods across month ends, leap years, the 29th-31st, time zones and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from domain.errors import ValidationFailed
from domain.periods import (
    add_months,
    billing_period,
    day_start,
    local_midnight,
    next_date_on,
    nominal_days,
    overlap_days,
    periods_from,
    zone_of,
)

UTC_ZONE = ZoneInfo("UTC")
HELSINKI = ZoneInfo("Europe/Helsinki")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
    ],
)
def test_months_are_added_with_the_day_clamped(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "day_of_month", "expected"),
    [
        (date(2026, 1, 10), 10, date(2026, 2, 10)),
        (date(2026, 1, 10), 1, date(2026, 2, 1)),
        (date(2026, 1, 10), 20, date(2026, 1, 20)),
        (date(2026, 1, 31), 31, date(2026, 2, 28)),
        (date(2026, 2, 28), 31, date(2026, 3, 31)),
        (date(2028, 1, 30), 30, date(2028, 2, 29)),
    ],
)
def test_the_next_date_on_a_day_of_the_month(day: date, day_of_month: int, expected: date) -> None:
    assert next_date_on(day, day_of_month) == expected


def test_billing_periods_follow_the_billing_day_through_short_months() -> None:
    periods = [billing_period(utc(2026, 1, 31, 10), 31, n, UTC_ZONE) for n in range(4)]
    assert [(p.start.date().isoformat(), p.end.date().isoformat()) for p in periods] == [
        ("2026-01-31", "2026-02-28"),
        ("2026-02-28", "2026-03-31"),
        ("2026-03-31", "2026-04-30"),
        ("2026-04-30", "2026-05-31"),
    ]


def test_a_short_first_period_is_prorated_against_its_month() -> None:
    first = billing_period(utc(2026, 1, 10, 10), 1, 0, UTC_ZONE)
    assert (first.days, nominal_days(first, 1, UTC_ZONE)) == (22, 31)
    full = billing_period(utc(2026, 1, 10, 10), 1, 1, UTC_ZONE)
    assert (full.days, nominal_days(full, 1, UTC_ZONE)) == (28, 28)


def test_a_helsinki_month_runs_from_local_midnight_to_local_midnight() -> None:
    january = billing_period(datetime(2027, 1, 1, 9, tzinfo=HELSINKI), 1, 0, HELSINKI)
    assert january.start == utc(2026, 12, 31, 22)  # 2027-01-01T00:00+02:00
    assert january.end == utc(2027, 1, 31, 22)
    # A session that ended at 2027-01-31T22:30Z (00:30 local on 1 February) is February's.
    assert not utc(2027, 1, 31, 22, 30) < january.end


def test_periods_across_the_berlin_dst_changes_start_at_local_midnight() -> None:
    periods = list(islice(periods_from(0, local_midnight(date(2027, 1, 1), BERLIN), 1, BERLIN), 12))
    starts = [period.start.astimezone(BERLIN) for period in periods]
    assert all((start.hour, start.minute, start.day) == (0, 0, 1) for start in starts)
    march, april = periods[2], periods[3]
    assert (march.end - march.start) == timedelta(days=31, hours=-1)  # 2027-03-28: 23 hours
    assert march.days == 31 and april.start == march.end
    october = periods[9]
    assert (october.end - october.start) == timedelta(days=31, hours=1)  # 2027-10-31: 25 hours


def test_a_period_that_began_under_another_zone_ends_a_month_later_in_the_new_one() -> None:
    # UTC's February ended at 2027-03-01T00:00Z, 19:00 on 28 February in New York: the next
    # period ends on New York's 1 April, not a few hours later on 1 March.
    utc_february = billing_period(utc(2027, 2, 1), 1, 0, UTC_ZONE)
    after = next(periods_from(1, utc_february.end, 1, NEW_YORK))
    assert after.end == local_midnight(date(2027, 4, 1), NEW_YORK)


def test_the_leap_day_is_a_day_of_february() -> None:
    february = billing_period(utc(2028, 1, 29, 8), 29, 1, UTC_ZONE)
    assert (february.start, february.end, february.days) == (utc(2028, 2, 29), utc(2028, 3, 29), 29)
    on_the_30th = billing_period(utc(2028, 1, 30), 30, 1, UTC_ZONE)
    assert (on_the_30th.start.date(), on_the_30th.end.date()) == (date(2028, 2, 29), date(2028, 3, 30))


def test_overlap_counts_whole_active_local_days() -> None:
    period = billing_period(utc(2026, 3, 1), 1, 1, UTC_ZONE)  # April
    assert period.start == utc(2026, 4, 1)
    assert overlap_days(period, utc(2026, 1, 1), None, UTC_ZONE) == 30
    assert overlap_days(period, utc(2026, 4, 21, 13), None, UTC_ZONE) == 10
    assert overlap_days(period, utc(2026, 1, 1), utc(2026, 4, 11), UTC_ZONE) == 10
    assert overlap_days(period, utc(2026, 1, 1), utc(2026, 4, 11, 0, 1), UTC_ZONE) == 11
    assert overlap_days(period, utc(2026, 5, 2), None, UTC_ZONE) == 0
    helsinki_april = billing_period(utc(2026, 3, 1), 1, 1, HELSINKI)
    # 22:30Z on 20 April is 01:30 on the 21st in Helsinki: ten local days remain.
    assert overlap_days(helsinki_april, utc(2026, 4, 20, 22, 30), None, HELSINKI) == 10


def test_the_day_an_instant_falls_on_begins_at_local_midnight() -> None:
    assert day_start(utc(2027, 1, 31, 22, 30), HELSINKI) == utc(2027, 1, 31, 22)
    assert day_start(utc(2027, 1, 31, 21, 59), HELSINKI) == utc(2027, 1, 30, 22)


@pytest.mark.parametrize("name", ["Mars/Olympus", "utc+2", "", "Europe/helsinki"])
def test_an_unknown_time_zone_is_refused_naming_the_field(name: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        zone_of(name)
    assert refused.value.field == "time_zone"
