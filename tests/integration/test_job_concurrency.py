"""Two runs of a job at the same moment, or a run killed halfway and repeated, leave exactly
the state of one clean run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import takewhile
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.jobs import run_job
from commands.messages import (
    DefinePackage,
    RecordSession,
    RegisterCustomer,
    RegisterEmp,
    StartSubscription,
    StorePaymentCard,
    TopUpBalance,
)
from commands.ports import ManualClock
from domain.aggregates import PaymentCard
from domain.periods import billing_period, day_start, periods_from
from tests.conftest import create_database, drop_database

UTC_ZONE = ZoneInfo("UTC")
JOBS = ("recurring-prepayment", "recurring-payment", "invoice-production")
START = datetime(2026, 1, 31, 9, tzinfo=UTC)
AS_OF = datetime(2026, 5, 2, 3, tzinfo=UTC)
CARDS = [
    PaymentCard("tok_visa", "visa", "4242", 1, 2035),
    PaymentCard("tok_chargeCustomerFail", "visa", "0341", 1, 2035),
]


class WorkerKilled(BaseException):
    """Stands for SIGKILL: no handler catches it."""


def build_scenario(system: System, clock: ManualClock) -> None:
    do = lambda command: handle(command, system.services)  # noqa: E731
    clock.set(START)
    emp = do(RegisterEmp("Jobs EMP", "EUR", 1000, 3000, "t", vat_rate_bp=2550)).id
    do(DefinePackage(emp, "PRE", "Prepaid base", "base", True, "prepaid", 990, "t"))
    do(DefinePackage(emp, "POST", "Postpaid base", "base", True, "postpaid", 1490, "t"))
    for n in range(8):
        clock.set(START + timedelta(days=n * 3))
        name = f"prepaid-{n}"
        customer = do(RegisterCustomer(emp, name, f"{name}@example.com", "prepaid", None, "t")).id
        do(StorePaymentCard(emp, customer, CARDS[n % 2], "t"))
        if n % 4 == 0:
            do(TopUpBalance(emp, customer, 1500, "t"))
        do(StartSubscription(emp, customer, "PRE", None, "t"))
    for n in range(6):
        clock.set(START + timedelta(days=n * 5))
        name = f"postpaid-{n}"
        customer = do(RegisterCustomer(emp, name, f"{name}@example.com", "postpaid", None, "t")).id
        do(StartSubscription(emp, customer, "POST", None, "t"))
        for week in range(12):
            ended = START + timedelta(days=n * 5 + week * 7, hours=3)
            clock.set(ended + timedelta(minutes=1))
            do(
                RecordSession(
                    emp,
                    f"{name}-{week}",
                    customer,
                    ended - timedelta(hours=1),
                    ended,
                    7000,
                    300 + n,
                    None,
                    "t",
                )
            )
    clock.set(AS_OF)


def state(system: System) -> dict[str, Any]:
    """The billing state by customer name: independent of generated ids and run order."""
    with psycopg.connect(system.database_url) as conn:
        debits = conn.execute(
            "SELECT c.name, d.due_at, d.amount_minor, d.status, d.settled_by FROM debits d"
            " JOIN customers c ON c.id = d.customer_id ORDER BY 1, 2"
        ).fetchall()
        invoices = conn.execute(
            "SELECT c.name, i.period_start, i.period_end, i.total_minor, i.vat_minor,"
            " jsonb_array_length(i.lines) FROM invoices i JOIN customers c ON c.id = i.customer_id"
            " ORDER BY 1, 2"
        ).fetchall()
        sequences = [r[0] for r in conn.execute("SELECT sequence FROM invoices ORDER BY sequence")]
        balances = conn.execute("SELECT name, balance_minor FROM customers ORDER BY name").fetchall()
        charges = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE approved) FROM gateway_charges"
        ).fetchone()
        failures = conn.execute(
            "SELECT c.name, count(*) FROM mail_outbox m JOIN customers c ON c.id = m.customer_id"
            " GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert sequences == list(range(1, len(sequences) + 1)), "invoice numbers are gapless"
    return {
        "debits": debits,
        "invoices": invoices,
        "balances": balances,
        "charges": charges,
        "mails": failures,
    }


@pytest.fixture
def twin_systems(server_url: str) -> Iterator[tuple[System, System, ManualClock, ManualClock]]:
    """Two identical ledgers in two databases: one for the clean run, one for the rough one."""
    urls = [create_database(server_url, "cl_twin") for _ in range(2)]
    clocks = [ManualClock(START), ManualClock(START)]
    systems = [build_system(url, pool_size=6, clock=clock) for url, clock in zip(urls, clocks, strict=True)]
    for system, clock in zip(systems, clocks, strict=True):
        system.start_projections()
        build_scenario(system, clock)
    yield systems[0], systems[1], clocks[0], clocks[1]
    for system, url in zip(systems, urls, strict=True):
        system.close()
        drop_database(server_url, url)


def clean_run(system: System) -> dict[str, Any]:
    for job in JOBS:
        system.run_job(job, AS_OF, "test")
    return state(system)


def test_two_runs_at_once_leave_the_state_of_one_run(twin_systems: Any) -> None:
    clean, rough, _, _ = twin_systems
    expected = clean_run(clean)
    acquisitions = [START + timedelta(days=n * 3) for n in range(8)]
    debits_due = sum(
        sum(
            1
            for _ in takewhile(
                lambda p: p.start <= AS_OF, periods_from(0, day_start(at, UTC_ZONE), at.day, UTC_ZONE)
            )
        )
        for at in acquisitions
    )
    periods_due = sum(
        1
        for n in range(6)
        for index in range(12)
        if billing_period(
            START + timedelta(days=n * 5), (START + timedelta(days=n * 5)).day, index, UTC_ZONE
        ).end
        <= AS_OF
    )
    assert (len(expected["debits"]), len(expected["invoices"])) == (debits_due, periods_due) == (25, 13)

    for job in JOBS:
        rough.catch_up()
        errors: list[BaseException] = []

        def run(job: str = job, errors: list[BaseException] = errors) -> None:
            try:
                rough.run_job(job, AS_OF, "test")
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []

    assert state(rough) == expected
    assert [rough.run_job(job, AS_OF, "test").processed for job in JOBS] == [0, 0, 0]


class DiesHalfway:
    """Work lists that kill the run after `limit` items."""

    def __init__(self, inner: Any, limit: int) -> None:
        self.inner = inner
        self.limit = limit

    def _cut(self, items: list[tuple[UUID, UUID]]) -> Iterator[tuple[UUID, UUID]]:
        for n, item in enumerate(items):
            if n == self.limit:
                raise WorkerKilled
            yield item

    def prepaid_subscriptions_with_recurring_packages(self) -> Any:
        return self._cut(self.inner.prepaid_subscriptions_with_recurring_packages())

    def customers_to_dun(self, due_by: datetime) -> Any:
        return self._cut(self.inner.customers_to_dun(due_by))

    def overdue_invoices(self, customer_id: UUID, due_by: datetime) -> Any:
        return self.inner.overdue_invoices(customer_id, due_by)

    def postpaid_subscriptions(self) -> Any:
        return self._cut(self.inner.postpaid_subscriptions())


def test_a_run_killed_halfway_and_repeated_leaves_the_state_of_one_run(twin_systems: Any) -> None:
    clean, rough, _, _ = twin_systems
    expected = clean_run(clean)

    for job in JOBS:
        rough.catch_up()
        with pytest.raises(WorkerKilled):
            run_job(
                job,
                AS_OF,
                rough.services,
                DiesHalfway(rough.billing_queries, 3),
                rough.pool,
                triggered_by="t",
            )
        # Asked after each run: every run starts at the clock's AS_OF, so ordering the runs by
        # started_at would leave their order to the table's physical row order.
        assert job_statuses(rough, job) == ["failed"]
        rough.run_job(job, AS_OF, "test")
        assert job_statuses(rough, job) == ["failed", "finished"]

    assert state(rough) == expected
    with psycopg.connect(rough.database_url) as conn:
        [(runs,)] = conn.execute("SELECT count(*) FROM job_runs").fetchall()
    assert runs == 2 * len(JOBS)


def job_statuses(system: System, job: str) -> list[str]:
    with psycopg.connect(system.database_url) as conn:
        rows = conn.execute("SELECT status FROM job_runs WHERE job = %s ORDER BY status", (job,))
        return [row[0] for row in rows.fetchall()]
