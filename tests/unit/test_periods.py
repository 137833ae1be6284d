"""Calendar periods across month ends, leap years and the 29th-31st."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.periods import (
    add_months,
    billing_period,
    first_billing_date,
    nominal_days,
    overlap_days,
    renewal_period,
    renewal_periods_started_by,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        (utc(2026, 1, 31, 9), 1, utc(2026, 2, 28, 9)),
        (utc(2028, 1, 31, 9), 1, utc(2028, 2, 29, 9)),
        (utc(2026, 1, 31, 9), 2, utc(2026, 3, 31, 9)),
        (utc(2026, 1, 30), 1, utc(2026, 2, 28)),
        (utc(2026, 3, 31), 1, utc(2026, 4, 30)),
        (utc(2026, 12, 15), 1, utc(2027, 1, 15)),
        (utc(2026, 1, 15), -1, utc(2025, 12, 15)),
    ],
)
def test_months_are_added_with_the_day_clamped(anchor: datetime, months: int, expected: datetime) -> None:
    assert add_months(anchor, months) == expected


def test_a_renewal_on_the_31st_returns_to_its_day_after_short_months() -> None:
    starts = [renewal_period(utc(2026, 1, 31, 12), n).start.date().isoformat() for n in range(5)]
    assert starts == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]


def test_renewals_started_by_an_instant_include_every_missed_period() -> None:
    periods = renewal_periods_started_by(utc(2026, 1, 10, 8), 1, utc(2026, 4, 10, 8))
    assert [p.index for p in periods] == [1, 2, 3]
    assert renewal_periods_started_by(utc(2026, 1, 10, 8), 4, utc(2026, 4, 10, 8)) == []


@pytest.mark.parametrize(
    ("started", "day", "first_end"),
    [
        (utc(2026, 1, 10, 15), 10, utc(2026, 2, 10)),
        (utc(2026, 1, 10, 15), 1, utc(2026, 2, 1)),
        (utc(2026, 1, 10, 15), 20, utc(2026, 1, 20)),
        (utc(2026, 1, 31, 15), 31, utc(2026, 2, 28)),
        (utc(2028, 1, 30, 15), 30, utc(2028, 2, 29)),
    ],
)
def test_the_first_billing_date(started: datetime, day: int, first_end: datetime) -> None:
    assert first_billing_date(started, day) == first_end


def test_billing_periods_follow_the_billing_day_through_short_months() -> None:
    periods = [billing_period(utc(2026, 1, 31, 10), 31, n) for n in range(4)]
    assert [(p.start.date().isoformat(), p.end.date().isoformat()) for p in periods] == [
        ("2026-01-31", "2026-02-28"),
        ("2026-02-28", "2026-03-31"),
        ("2026-03-31", "2026-04-30"),
        ("2026-04-30", "2026-05-31"),
    ]


def test_a_short_first_period_is_prorated_against_its_month() -> None:
    first = billing_period(utc(2026, 1, 10, 10), 1, 0)
    assert (first.days, nominal_days(first, 1)) == (22, 31)
    full = billing_period(utc(2026, 1, 10, 10), 1, 1)
    assert (full.days, nominal_days(full, 1)) == (28, 28)


def test_overlap_counts_whole_active_days() -> None:
    period = billing_period(utc(2026, 3, 1), 1, 1)  # April
    assert period.start == utc(2026, 4, 1)
    assert overlap_days(period, utc(2026, 1, 1), None) == 30
    assert overlap_days(period, utc(2026, 4, 21, 13), None) == 10
    assert overlap_days(period, utc(2026, 1, 1), utc(2026, 4, 11)) == 10
    assert overlap_days(period, utc(2026, 1, 1), utc(2026, 4, 11, 0, 1)) == 11
    assert overlap_days(period, utc(2026, 5, 2), None) == 0
