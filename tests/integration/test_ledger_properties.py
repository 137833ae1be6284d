"""Properties over random command sequences, against the real Application and PostgreSQL:
the balance is the sum of the transactions, the read model is a replay of the events, and
retried commands never charge twice."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargeledger.system import System
from commands.handlers import handle
from commands.messages import (
    DefinePackage,
    PurchasePackage,
    RecordSession,
    RegisterCustomer,
    RegisterEmp,
    SetAutoTopUp,
    StartSubscription,
    StorePaymentCard,
    TopUpBalance,
)
from domain.aggregates import Customer, PaymentCard
from domain.errors import DomainError

CARDS = {
    "good": PaymentCard("tok_visa", "visa", "4242", 12, 2030),
    "failing": PaymentCard("tok_chargeCustomerFail", "visa", "0341", 12, 2030),
}

operation = st.one_of(
    st.tuples(st.just("session"), st.integers(0, 3000), st.booleans()),
    st.tuples(st.just("top_up"), st.integers(1, 5000), st.booleans()),
    st.tuples(st.just("auto"), st.booleans(), st.integers(0, 3000), st.integers(1, 4000)),
    st.tuples(st.just("card"), st.sampled_from(sorted(CARDS))),
    st.tuples(st.just("buy")),
)


@pytest.fixture(scope="module")
def emp_id(system: System) -> UUID:
    services = system.services
    emp = handle(RegisterEmp("Property EMP", "EUR", 1000, 3000, "test"), services)
    for code, payment in (("BASE-PRE", "prepaid"), ("BASE-POST", "postpaid")):
        handle(DefinePackage(emp.id, code, code, "base", True, payment, 990, "test"), services)
    handle(DefinePackage(emp.id, "ONCE", "Once", "bolt_on", False, "any", 700, "test"), services)
    return emp.id


def run(system: System, command: object) -> None:
    with contextlib.suppress(DomainError):  # a refusal is an outcome too: it changes nothing
        handle(command, system.services)


def settle(system: System, customer_id: UUID) -> None:
    """Wait until automatic top-ups are completed and every projection caught up."""
    deadline = time.monotonic() + 20
    while True:
        customer = system.ledger.find_customer(customer_id)
        head = system.ledger.recorder.max_notification_id()
        if customer is not None and not customer.pending_payments and system.progress.reached(head or 0):
            return
        assert time.monotonic() < deadline, "the ledger did not settle"
        time.sleep(0.02)


def replayed_transactions(system: System, customer_id: UUID) -> list[tuple[Any, ...]]:
    rows = []
    for event in system.ledger.events.get(customer_id):
        if isinstance(event, Customer.BalanceMoved):
            rows.append((event.originator_version, event.kind, event.amount_minor, event.balance_after_minor))
    return rows


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(account_type=st.sampled_from(["prepaid", "postpaid"]), operations=st.lists(operation, max_size=14))
def test_random_histories_keep_the_ledger_consistent(
    system: System, emp_id: UUID, account_type: str, operations: list[tuple[Any, ...]]
) -> None:
    services = system.services
    customer_id = handle(
        RegisterCustomer(emp_id, "Prop", "p@example.com", account_type, None, "test"), services
    ).id
    base = "BASE-PRE" if account_type == "prepaid" else "BASE-POST"
    subscription_id = handle(StartSubscription(emp_id, customer_id, base, None, "test"), services).id
    run(system, StorePaymentCard(emp_id, customer_id, CARDS["good"], "test"))
    ended = datetime.now(UTC) - timedelta(hours=1)
    sessions_sent: set[str] = set()

    for step, op in enumerate(operations):
        kind = op[0]
        if kind == "session":
            session_id = f"{customer_id}-{step}"
            command = RecordSession(
                emp_id, session_id, customer_id, ended - timedelta(minutes=30), ended, 1000, op[1], None, "t"
            )
            run(system, command)
            if op[2]:
                run(system, command)  # a client retry
            sessions_sent.add(session_id)
        elif kind == "top_up":
            command = TopUpBalance(emp_id, customer_id, op[1], "test", request_key=f"k{step}")
            run(system, command)
            if op[2]:
                run(system, command)  # the same Idempotency-Key again
        elif kind == "auto":
            run(system, SetAutoTopUp(emp_id, customer_id, op[1], op[2], op[3], "test"))
        elif kind == "card":
            run(system, StorePaymentCard(emp_id, customer_id, CARDS[op[1]], "test"))
        else:
            run(system, PurchasePackage(emp_id, subscription_id, "ONCE", "test", request_key=f"b{step}"))

    settle(system, customer_id)
    customer = system.ledger.get_customer(customer_id, emp_id)
    with psycopg.connect(system.database_url) as conn:
        balance = conn.execute("SELECT balance_minor FROM customers WHERE id = %s", (customer_id,)).fetchone()
        transactions = conn.execute(
            "SELECT sequence, type, amount_minor, balance_after_minor FROM transactions"
            " WHERE customer_id = %s ORDER BY sequence",
            (customer_id,),
        ).fetchall()
        sessions = conn.execute(
            "SELECT count(*) FROM sessions WHERE customer_id = %s", (customer_id,)
        ).fetchone()
        charges = conn.execute(
            "SELECT count(*) FROM gateway_charges g JOIN card_payments p"
            " ON g.idempotency_key = 'payment:' || p.payment_id"
            " WHERE p.customer_id = %s AND g.approved",
            (customer_id,),
        ).fetchone()

    assert balance == (customer.balance_minor,)
    assert sum(row[2] for row in transactions) == customer.balance_minor
    running = 0
    for _, _, amount, after in transactions:
        running += amount
        assert after == running
    assert [tuple(row) for row in transactions] == replayed_transactions(system, customer_id)
    assert sessions == (len(sessions_sent),)
    card_credits = {
        str(e.payment_id)
        for e in system.ledger.events.get(customer_id)
        if isinstance(e, Customer.TopUpApplied | Customer.PaymentTaken)
    }
    assert charges == (len(card_credits),)  # one approved charge per credited card payment
