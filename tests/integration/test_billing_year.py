"""A year of billing on a controllable clock, across month ends (the 31st, February in a leap
and a common year): every period debited once, every period invoiced once, every session on
exactly one invoice, invoice numbers gapless."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.messages import (
    CancelPackage,
    DefinePackage,
    PurchasePackage,
    RecordSession,
    RegisterCustomer,
    RegisterEmp,
    StartSubscription,
    StorePaymentCard,
    TopUpBalance,
)
from commands.ports import ManualClock
from domain.aggregates import PaymentCard
from domain.money import prorate

GOOD = PaymentCard("tok_visa", "visa", "4242", 12, 2035)
FAILING = PaymentCard("tok_chargeCustomerFail", "visa", "0341", 12, 2035)
JOBS = ("recurring-prepayment", "recurring-payment", "invoice-production")


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


class Billing:
    """The story's actors and the clock, with the handlers at hand."""

    def __init__(self, system: System, clock: ManualClock) -> None:
        self.system = system
        self.clock = clock
        self.emp: UUID = UUID(int=0)
        self.session_count = 0

    def do(self, command: object) -> Any:
        return handle(command, self.system.services)

    def customer(self, name: str, account_type: str, card: PaymentCard | None, when: datetime) -> UUID:
        self.clock.set(when)
        customer_id: UUID = self.do(
            RegisterCustomer(self.emp, name, f"{name}@example.com", account_type, None, "t")
        ).id
        if card is not None:
            self.do(StorePaymentCard(self.emp, customer_id, card, "t"))
        return customer_id

    def subscribe(self, customer_id: UUID, base: str, when: datetime, billing_day: int | None = None) -> UUID:
        self.clock.set(when)
        subscription_id: UUID = self.do(StartSubscription(self.emp, customer_id, base, billing_day, "t")).id
        return subscription_id

    def session(self, customer_id: UUID, ended: datetime, cost: int) -> str:
        self.session_count += 1
        session_id = f"S{self.session_count:05d}"
        self.do(
            RecordSession(
                self.emp, session_id, customer_id, ended - timedelta(hours=1), ended, 5000, cost, None, "t"
            )
        )
        return session_id

    def run_jobs(self, as_of: datetime) -> dict[str, int]:
        self.clock.set(as_of)
        return {job: self.system.run_job(job, as_of, "test").processed for job in JOBS}

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.system.database_url) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture
def billing(fresh_database_url: str) -> Iterator[Billing]:
    clock = ManualClock(at(2000, 1, 1))
    system = build_system(fresh_database_url, pool_size=4, clock=clock)
    system.start_projections()
    story = Billing(system, clock)
    yield story
    system.close()


@pytest.mark.parametrize("year", [2027, 2028], ids=["common-year", "leap-year"])
def test_a_year_of_billing(billing: Billing, year: int) -> None:
    b = billing
    b.clock.set(at(year, 1, 1))
    b.emp = b.do(RegisterEmp("Year EMP", "EUR", 1000, 3000, "t", vat_rate_bp=2400)).id
    for code, kind, recurring, payment, price in [
        ("BASE-PRE", "base", True, "prepaid", 990),
        ("BOLT-PRE", "bolt_on", True, "prepaid", 300),
        ("BASE-POST", "base", True, "postpaid", 1490),
        ("BOLT-POST", "bolt_on", True, "postpaid", 400),
    ]:
        b.do(DefinePackage(b.emp, code, code, kind, recurring, payment, price, "t"))

    # Prepaid: renewals on the 31st and the 29th; a bolt-on bought on Mar 30, cancelled Aug 15.
    p1 = b.customer("p1", "prepaid", GOOD, at(year, 1, 31))
    b.do(TopUpBalance(b.emp, p1, 2000, "t"))
    p1_sub = b.subscribe(p1, "BASE-PRE", at(year, 1, 31))
    p2 = b.customer("p2", "prepaid", FAILING, at(year, 1, 29))
    b.subscribe(p2, "BASE-PRE", at(year, 1, 29))
    b.clock.set(at(year, 3, 30))
    bolt = b.do(PurchasePackage(b.emp, p1_sub, "BOLT-PRE", "t")).id
    # Postpaid: one billed on the 31st, one starting Jan 10 with billing day 1 (a short first period).
    q1 = b.customer("q1", "postpaid", None, at(year, 1, 31))
    q1_sub = b.subscribe(q1, "BASE-POST", at(year, 1, 31))
    b.clock.set(at(year, 2, 10))
    b.do(PurchasePackage(b.emp, q1_sub, "BOLT-POST", "t"))
    q2 = b.customer("q2", "postpaid", None, at(year, 1, 10))
    b.subscribe(q2, "BASE-POST", at(year, 1, 10), billing_day=1)

    sessions: dict[str, UUID] = {}
    run_days = [at(year, 1, 1, 3) + timedelta(days=7 * week) for week in range(54)]
    run_days = [day for day in run_days if not (at(year, 5, 1) <= day < at(year, 6, 15))]  # six weeks down
    late_session = None
    for as_of in run_days:
        b.clock.set(as_of)
        for customer in (q1, q2):
            sessions[b.session(customer, as_of - timedelta(hours=5), 250)] = customer
        if as_of >= at(year, 8, 15, 0) and not any(
            b.rows("SELECT 1 FROM subscription_packages WHERE status = 'cancelled'")
        ):
            b.do(CancelPackage(b.emp, p1_sub, bolt, "t"))
        if late_session is None and as_of >= at(year, 7, 10):
            # Ended in June, recorded in July after June was invoiced: it goes on July's invoice.
            late_session = b.session(q2, at(year, 6, 20), 999)
            sessions[late_session] = q2
        b.run_jobs(as_of)
    final = run_days[-1]
    assert final >= at(year + 1, 1, 1)

    # Every renewal period debited exactly once, on the anniversary, the 31st clamped.
    debits = b.rows(
        "SELECT customer_id, package_code, due_at FROM debits ORDER BY customer_id, package_code, due_at"
    )
    assert len(set(debits)) == len(debits)
    p1_base = [due.date().isoformat() for c, code, due in debits if c == p1 and code == "BASE-PRE"]
    february_end = "29" if year == 2028 else "28"
    assert p1_base == [
        f"{year}-01-31", f"{year}-02-{february_end}", f"{year}-03-31", f"{year}-04-30", f"{year}-05-31",
        f"{year}-06-30", f"{year}-07-31", f"{year}-08-31", f"{year}-09-30", f"{year}-10-31",
        f"{year}-11-30", f"{year}-12-31",
    ]  # fmt: skip
    p1_bolt = [due.date().isoformat() for c, code, due in debits if c == p1 and code == "BOLT-PRE"]
    assert p1_bolt == [f"{year}-03-30", f"{year}-04-30", f"{year}-05-30", f"{year}-06-30", f"{year}-07-30"]
    p2_base = [due.date().isoformat() for c, code, due in debits if c == p2]
    assert p2_base[:3] == [f"{year}-01-29", f"{year}-02-{february_end}", f"{year}-03-29"]
    assert len(p2_base) == 12

    # Recurring Payment: p1 always paid (balance, else card); p2's card always declines.
    assert b.rows("SELECT count(*) FROM debits WHERE customer_id = %s AND status = 'unpaid'", p1) == [(0,)]
    assert b.rows("SELECT count(*) FROM debits WHERE customer_id = %s AND status = 'paid'", p2) == [(0,)]
    failures = b.rows(
        "SELECT count(*) FROM card_payments WHERE customer_id = %s AND status = 'declined'", p2
    )[0][0]
    assert failures > 12  # retried by dunning on its retry days
    # In the order they were written (without an ORDER BY the rows may come in any order).
    subjects = [
        row[0]
        for row in b.rows("SELECT subject FROM mail_outbox WHERE customer_id = %s ORDER BY created_at", p2)
    ]
    # One failure mail per debit (its due date's attempt), and one mail per step of dunning.
    assert sum(subject.startswith("Payment failed") for subject in subjects) == 12
    reminders = [subject for subject in subjects if not subject.startswith("Payment failed")]
    # The jobs run on the story's run days only: steps missed are made up by the last one reached.
    assert reminders == [
        "Payment reminder 1: 9.90 EUR overdue",
        "Payment reminder 4: 9.90 EUR overdue",
        "Blocked: 9.90 EUR overdue",
    ]

    # Invoice Production: one invoice per completed period, numbers gapless from 1.
    invoices = b.rows(
        "SELECT customer_id, sequence, period_index, period_start, period_end, lines, total_minor,"
        " net_minor, vat_minor FROM invoices ORDER BY sequence"
    )
    assert [row[1] for row in invoices] == list(range(1, len(invoices) + 1))
    q1_periods = [(row[3].date().isoformat(), row[4].date().isoformat()) for row in invoices if row[0] == q1]
    assert q1_periods[:3] == [
        (f"{year}-01-31", f"{year}-02-{february_end}"),
        (f"{year}-02-{february_end}", f"{year}-03-31"),
        (f"{year}-03-31", f"{year}-04-30"),
    ]
    assert len(q1_periods) == 11 and q1_periods[-1] == (f"{year}-11-30", f"{year}-12-31")
    q2_periods = [(row[3].date().isoformat(), row[4].date().isoformat()) for row in invoices if row[0] == q2]
    assert q2_periods[0] == (f"{year}-01-10", f"{year}-02-01")
    assert len(q2_periods) == 12 and q2_periods[-1] == (f"{year}-12-01", f"{year + 1}-01-01")
    for customer_periods in (q1_periods, q2_periods):
        assert all(a[1] == b_[0] for a, b_ in itertools.pairwise(customer_periods))

    # Proration: the short first period of q2, the bolt-on acquired on Feb 10 on q1.
    q2_first_lines = next(row[5] for row in invoices if row[0] == q2)
    assert [line["amount_minor"] for line in q2_first_lines if line["kind"] == "package"] == [
        prorate(1490, 22, 31)
    ]
    q1_first_lines = next(row[5] for row in invoices if row[0] == q1)
    february_days = 29 if year == 2028 else 28
    bolt_days = february_days - 10  # Feb 10 up to the period end (exclusive)
    assert sorted(line["amount_minor"] for line in q1_first_lines if line["kind"] == "package") == sorted(
        [1490, prorate(400, bolt_days, february_days)]
    )
    for row in invoices:
        assert row[6] == sum(line["amount_minor"] for line in row[5])
        assert row[7] + row[8] == row[6]

    # Every session on exactly one invoice; the late one on the invoice after its period's.
    invoiced = Counter(line["reference"] for row in invoices for line in row[5] if line["kind"] == "session")
    assert max(invoiced.values()) == 1
    last_end = {q1: max(r[4] for r in invoices if r[0] == q1), q2: max(r[4] for r in invoices if r[0] == q2)}
    ended = dict(b.rows("SELECT session_id, ended_at FROM sessions"))
    due = {sid for sid, customer in sessions.items() if ended[sid] < last_end[customer]}
    assert set(invoiced) == due
    late_invoice = next(row for row in invoices if any(line["reference"] == late_session for line in row[5]))
    assert late_invoice[3].month == 7 and late_invoice[0] == q2

    # Running every job again for the same instant changes nothing.
    assert b.run_jobs(final) == dict.fromkeys(JOBS, 0)
