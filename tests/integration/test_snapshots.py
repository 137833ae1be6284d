"""Long histories: snapshots keep the cost of a command flat as a customer ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chargeledger.system import System
from commands.handlers import handle
from commands.messages import RecordSession, RegisterCustomer, RegisterEmp, StorePaymentCard, TopUpBalance
from domain.aggregates import PaymentCard


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in aggregate.__dict__.items() if k != "_pending_events"}


def test_a_long_history_is_loaded_from_a_snapshot_and_equals_a_full_replay(system: System) -> None:
    services = system.services
    emp = handle(RegisterEmp("Snap", "EUR", 1000, 3000, "test"), services)
    customer = handle(RegisterCustomer(emp.id, "Old", "o@example.com", "prepaid", None, "t"), services)
    card = PaymentCard("tok_visa", "visa", "4242", 1, 2031)
    handle(StorePaymentCard(emp.id, customer.id, card, "t"), services)
    ended = datetime.now(UTC) - timedelta(days=1)
    for n in range(230):
        handle(
            RecordSession(emp.id, f"snap-{customer.id}-{n}", customer.id, ended, ended, 100, 7, None, "t"),
            services,
        )
        if n % 50 == 0:
            handle(TopUpBalance(emp.id, customer.id, 500, "t"), services)

    ledger = system.ledger
    assert ledger.snapshots is not None
    [snapshot] = ledger.snapshots.get(customer.id, desc=True, limit=1)
    latest = ledger.repository.get(customer.id)
    assert latest.version - snapshot.originator_version < 100

    replayed: Any = None
    for event in ledger.events.get(customer.id):
        replayed = event.mutate(replayed)
    assert state(replayed) == state(latest)
    assert latest.balance_minor == 5 * 500 - 230 * 7
