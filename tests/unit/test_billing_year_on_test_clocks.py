"""Fourteen months of billing on EMP test clocks, in memory: EMPs in UTC, Europe/Helsinki,
America/New_York and Europe/Berlin (DST on 2027-03-28 and 2027-10-31), a subscription for every
billing day 1-31, through the leap day 2028-02-29. Moving each clock runs the jobs at every
scheduled instant, as the scheduler would. Every period is debited or invoiced exactly once, the
periods follow one another, and each runs from local midnight to local midnight."""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from commands.handlers import handle
from commands.in_memory import LogWorkLists, in_memory_services
from commands.jobs import JOBS, JobResult, Scope
from commands.messages import (
    DefinePackage,
    RegisterCustomer,
    RegisterEmp,
    StartSubscription,
    StorePaymentCard,
    TopUpBalance,
)
from commands.ports import ManualClock
from commands.simulated_gateway import InMemoryGateway
from domain.aggregates import Customer, Invoice
from scheduler.test_clocks import advance_test_clock
from tests.unit.ledger_story import VISA

DAYS = range(1, 32)
FIRST_MONTH = date(2027, 1, 1)
UNTIL = datetime(2028, 3, 15, 12, tzinfo=UTC)
BASE_PRE, BASE_POST = 990, 1490


class YearOnTestClock:
    """One EMP on a test clock in `zone`, with a prepaid and a postpaid customer per billing day,
    their subscriptions backdated to 10:00 local time on that day of January 2027."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.services = in_memory_services(ManualClock(UNTIL), InMemoryGateway())
        self.worklists = LogWorkLists(self.services.ledger)
        clock_start = datetime.combine(date(2027, 2, 1), time(12), self.zone).astimezone(UTC)
        self.emp_id: UUID = self.do(RegisterEmp("Year", "EUR", 1000, 3000, "t", 0, zone, clock_start)).id
        for code, payment, price in (("BASE-PRE", "prepaid", BASE_PRE), ("BASE-POST", "postpaid", BASE_POST)):
            self.do(DefinePackage(self.emp_id, code, code, "base", True, payment, price, "t"))
        self.prepaid: dict[int, UUID] = {}
        self.postpaid: dict[int, UUID] = {}  # billing day -> subscription
        for day in DAYS:
            started = self.local(date(2027, 1, day), time(10))
            prepaid = self.customer("prepaid")
            self.do(StorePaymentCard(self.emp_id, prepaid, VISA, "t"))
            self.do(TopUpBalance(self.emp_id, prepaid, 100_000, "t"))
            self.do(StartSubscription(self.emp_id, prepaid, "BASE-PRE", None, "t", started))
            self.prepaid[day] = prepaid
            postpaid = self.customer("postpaid")
            self.postpaid[day] = self.do(
                StartSubscription(self.emp_id, postpaid, "BASE-POST", None, "t", started)
            ).id

    def do(self, command: object) -> Any:
        return handle(command, self.services)

    def customer(self, account_type: str) -> UUID:
        registered = self.do(
            RegisterCustomer(self.emp_id, "Driver", "d@example.com", account_type, None, "t")
        )
        return UUID(str(registered.id))

    def local(self, day: date, at: time = time(0)) -> datetime:
        return datetime.combine(day, at, self.zone).astimezone(UTC)

    def run_job(self, job: str, as_of: datetime, emp_id: UUID) -> JobResult:
        return JOBS[job](self.services, self.worklists, as_of, f"job:{job}", Scope(self.services, emp_id))

    def advance_to(self, until: datetime) -> list[tuple[str, datetime]]:
        """Move the clock month by month, as an integrator would; the runs, in order."""
        runs: list[tuple[str, datetime]] = []
        now = self.services.now_for(self.emp_id)
        while now < until:
            now = min(now + timedelta(days=31), until)
            _, done = advance_test_clock(
                self.services, self.emp_id, now, run_jobs=True, run_job=self._recorded(runs), actor="t"
            )
            assert done  # a month passed: jobs ran
        return runs

    def _recorded(self, runs: list[tuple[str, datetime]]) -> Any:
        def run(job: str, as_of: datetime, emp_id: UUID) -> JobResult:
            runs.append((job, as_of))
            return self.run_job(job, as_of, emp_id)

        return run

    def debited_periods(self, customer_id: UUID) -> list[tuple[datetime, datetime]]:
        return [
            (e.period_start, e.period_end)
            for e in self.services.ledger.events.get(customer_id)
            if isinstance(e, Customer.PrepaymentDebited)
        ]

    def invoiced_periods(self, subscription_id: UUID) -> list[tuple[int, datetime, datetime, int]]:
        """The subscription's invoices, by period: index, start, end, total."""
        found = []
        for index in itertools.count():
            issued = list(self.services.ledger.events.get(Invoice.create_id(subscription_id, index)))
            if not issued:
                return found
            (invoice,) = issued
            found.append(
                (invoice.period_index, invoice.period_start, invoice.period_end, invoice.total_minor)
            )
        raise AssertionError("unreachable")


def renewal_dates(day: int, first: date, count: int) -> list[date]:
    """The first `count` dates on `day` of each month from `first`'s month, clamped to short months."""
    dates = []
    for months in range(count):
        year, month = divmod(first.month - 1 + months, 12)
        year, month = first.year + year, month + 1
        dates.append(date(year, month, min(day, calendar.monthrange(year, month)[1])))
    return dates


Year = tuple[YearOnTestClock, list[tuple[str, datetime]]]
_years: dict[str, Year] = {}


def year_in(zone: str) -> Year:
    """The zone's story, told once for every test of this module."""
    if zone not in _years:
        story = YearOnTestClock(zone)
        _years[zone] = (story, story.advance_to(UNTIL))
    return _years[zone]


@pytest.fixture(params=["UTC", "Europe/Helsinki", "America/New_York", "Europe/Berlin"])
def year(request: pytest.FixtureRequest) -> Year:
    return year_in(request.param)


def last_run(runs: list[tuple[str, datetime]], job: str) -> datetime:
    return max(as_of for name, as_of in runs if name == job)


def test_the_clock_ran_every_job_daily_in_time_order(year: Year) -> None:
    story, runs = year
    assert [as_of for _, as_of in runs] == sorted(as_of for _, as_of in runs)
    production = [as_of for job, as_of in runs if job == "invoice-production"]
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(production))
    assert production[0] == datetime(2027, 2, 2, 2, tzinfo=UTC)  # the first after the clock's start
    assert story.services.now_for(story.emp_id) == UNTIL


@pytest.mark.parametrize("day", DAYS)
def test_each_prepaid_period_is_debited_once_from_local_midnight(year: Year, day: int) -> None:
    story, runs = year
    periods = story.debited_periods(story.prepaid[day])
    renewals = renewal_dates(day, FIRST_MONTH, 16)
    due = [d for d in renewals if story.local(d) <= last_run(runs, "recurring-prepayment")]
    assert periods == [
        (story.local(start), story.local(end))
        for start, end in itertools.pairwise([*due, renewals[len(due)]])
    ]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(periods))  # contiguous
    for start, end in periods:
        assert start.astimezone(story.zone).time() == time(0) == end.astimezone(story.zone).time()
    if day >= 29:
        assert any(end.astimezone(story.zone).date() == date(2028, 2, 29) for _, end in periods)


@pytest.mark.parametrize("day", DAYS)
def test_each_postpaid_period_is_invoiced_once_from_local_midnight(year: Year, day: int) -> None:
    story, runs = year
    invoices = story.invoiced_periods(story.postpaid[day])
    renewals = renewal_dates(day, FIRST_MONTH, 16)
    started = story.local(date(2027, 1, day))  # the start day's local midnight, though it began at 10:00
    ends = [story.local(d) for d in renewals[1:] if story.local(d) <= last_run(runs, "invoice-production")]
    starts = [started, *ends[:-1]]
    assert [(i, s, e) for i, s, e, _ in invoices] == list(zip(range(len(ends)), starts, ends, strict=True))
    assert len(invoices) >= 13  # January 2027 to February 2028 at least
    for _, start, end, total in invoices:
        assert start.astimezone(story.zone).time() == time(0) == end.astimezone(story.zone).time()
        assert total == BASE_POST  # a whole month, whatever its length in hours


def test_berlin_months_across_the_dst_changes_run_from_local_midnight() -> None:
    story, _ = year_in("Europe/Berlin")
    invoices = story.invoiced_periods(story.postpaid[15])
    lengths = {start.astimezone(story.zone).date(): end - start for _, start, end, _ in invoices}
    assert lengths[date(2027, 3, 15)] == timedelta(days=31, hours=-1)  # spring forward on 2027-03-28
    assert lengths[date(2027, 10, 15)] == timedelta(days=31, hours=1)  # fall back on 2027-10-31
    assert lengths[date(2027, 6, 15)] == timedelta(days=30)
