"""A crash between charging the card and recording the outcome loses nothing and doubles
nothing: after a restart there is exactly one charge and one credit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.messages import RecordSession, RegisterCustomer, RegisterEmp, SetAutoTopUp, StorePaymentCard
from commands.payment_worker import PendingPaymentWorker
from commands.ports import ChargeResult
from commands.simulated_gateway import SimulatedGateway
from commands.unit_of_work import Services
from domain.aggregates import PaymentCard
from projections import queries


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


class DiesAfterCharging(SimulatedGateway):
    def charge(self, **kwargs: Any) -> ChargeResult:
        super().charge(**kwargs)
        raise WorkerKilled


@pytest.fixture
def system(fresh_database_url: str) -> Iterator[System]:
    built = build_system(fresh_database_url, pool_size=4)
    built.start_projections()
    yield built
    built.close()


def rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def worker(system: System, gateway: SimulatedGateway) -> PendingPaymentWorker:
    services = Services(system.ledger, gateway, system.services.clock)
    return PendingPaymentWorker(
        services, lambda cutoff: queries.pending_card_payments(system.pool, automatic_only_before=cutoff)
    )


def test_a_worker_killed_after_charging_completes_once_after_restart(system: System) -> None:
    services = system.services
    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), services)
    customer = handle(RegisterCustomer(emp.id, "Ann", "a@example.com", "prepaid", None, "test"), services)
    handle(
        StorePaymentCard(emp.id, customer.id, PaymentCard("tok_visa", "visa", "4242", 1, 2031), "t"), services
    )
    handle(SetAutoTopUp(emp.id, customer.id, True, None, None, "test"), services)
    ended = datetime.now(UTC) - timedelta(minutes=1)
    session = handle(
        RecordSession(emp.id, "S-1", customer.id, ended - timedelta(hours=1), ended, 9000, 400, None, "t"),
        services,
    )
    assert system.progress.wait_for(session.position, timeout=10)

    with pytest.raises(WorkerKilled):
        worker(system, DiesAfterCharging(system.pool)).run_once()

    url = system.database_url
    assert len(rows(url, "SELECT * FROM gateway_charges")) == 1
    assert system.ledger.get_customer(customer.id, emp.id).balance_minor == -400

    restarted = worker(system, SimulatedGateway(system.pool))
    assert restarted.run_once() == 1
    assert system.progress.wait_for(system.ledger.recorder.max_notification_id(), timeout=10)
    assert restarted.run_once() == 0

    assert len(rows(url, "SELECT * FROM gateway_charges")) == 1
    credits = rows(url, "SELECT amount_minor FROM transactions WHERE type = 'top_up'")
    assert credits == [(3000,)]
    assert system.ledger.get_customer(customer.id, emp.id).balance_minor == 2600
    assert rows(url, "SELECT status FROM card_payments") == [("approved",)]
