"""Erasure on PostgreSQL: events stored in the shape from before sealing (plain personal fields,
written by the library's own mapper) still read, and erasing them leaves no plaintext in the
stored rows while every hash chain still verifies; a rebuild brings nothing back."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import Mapper

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.messages import ErasePersonalData, RecordSession, RegisterCustomer, RegisterEmp, TopUpBalance
from domain.aggregates import Customer, PaymentCard
from projections import queries
from projections.verification import verify

ACTOR = "t"


@pytest.fixture(params=[None, "audit-key"], ids=["sha256", "hmac"])
def system(request: pytest.FixtureRequest, fresh_database_url: str) -> Iterator[System]:
    built = build_system(fresh_database_url, pool_size=4, hmac_key=request.param)
    yield built
    built.close()


def stored(system: System, customer_id: UUID) -> bytes:
    with psycopg.connect(system.database_url) as conn:
        rows = conn.execute(
            "SELECT state FROM ledger_events WHERE originator_id = %s ORDER BY originator_version",
            (customer_id,),
        ).fetchall()
    return b"".join(bytes(row[0]) for row in rows)


def old_shape_customer(system: System, emp_id: UUID) -> UUID:
    """A customer whose events were stored as before this change: plain personal fields."""
    now = datetime.now(UTC)
    customer = Customer(
        emp_id=emp_id,
        name="Olga Oldshape",
        email="olga@example.com",
        account_type="prepaid",
        currency="EUR",
        external_ref=None,
        auto_top_up_threshold_minor=1000,
        auto_top_up_amount_minor=3000,
        occurred_at=now,
        caused_by=ACTOR,
    )
    customer.store_payment_card(
        PaymentCard("tok_visa", "visa", "4242", 1, 2031), occurred_at=now, caused_by=ACTOR
    )
    customer.change_details({"email": "olga.new@example.com"}, occurred_at=now, caused_by=ACTOR)
    events = customer.collect_events()
    plain = Mapper(transcoder=system.ledger.mapper.transcoder)
    inline: Any = system.accounts.statements(events)
    system.ledger.recorder.insert_events([plain.to_stored_event(e) for e in events], inline=inline)
    return customer.id


def test_old_plain_events_read_and_are_erased_with_chains_intact(system: System) -> None:
    services = system.services
    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, ACTOR), services).id
    olga = old_shape_customer(system, emp)
    handle(TopUpBalance(emp, olga, 2000, ACTOR), services)
    ended = datetime.now(UTC) - timedelta(hours=1)
    handle(RecordSession(emp, "old-1", olga, ended, ended, 9000, 450, None, ACTOR), services)
    new = handle(
        RegisterCustomer(emp, "Nina Newshape", "nina@example.com", "prepaid", None, ACTOR), services
    ).id
    assert b"Olga Oldshape" in stored(system, olga)
    assert b"Nina Newshape" not in stored(system, new) and b"nina@example.com" not in stored(system, new)
    assert services.ledger.get_customer(olga, emp).email == "olga.new@example.com"

    for customer in (olga, new):
        handle(ErasePersonalData(emp, customer, ACTOR), services)
    handle(ErasePersonalData(emp, olga, ACTOR), services)  # a repeat changes nothing

    raw = stored(system, olga)
    # Whole values only: sealed fields, ids and timestamps may hold "4242" or "Olga" by chance.
    assert b"Oldshape" not in raw and b"olga@example" not in raw and b"olga.new@example" not in raw
    assert b'"4242"' not in raw
    report = verify(system.database_url, key=system.chain_key)
    assert report.ok, report.problems
    row = queries.customer(system.pool, emp, olga)
    assert row is not None
    assert (row["name"], row["email"], row["card_last4"], row["balance_minor"]) == (None, None, None, 1550)

    system.rebuild()

    for customer in (olga, new):
        rebuilt = queries.customer(system.pool, emp, customer)
        assert rebuilt is not None and (rebuilt["name"], rebuilt["email"]) == (None, None)
    assert queries.customer(system.pool, emp, olga)["balance_minor"] == 1550  # type: ignore[index]
    assert verify(system.database_url, key=system.chain_key).ok


def test_a_rewritten_event_changed_afterwards_is_found(system: System) -> None:
    services = system.services
    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, ACTOR), services).id
    olga = old_shape_customer(system, emp)
    handle(ErasePersonalData(emp, olga, ACTOR), services)
    with psycopg.connect(system.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE ledger_events SET state = convert_to(replace(convert_from(state, 'UTF8'),"
            ' \'"account_type":"prepaid"\', \'"account_type":"postpaid"\'), \'UTF8\')'
            " WHERE originator_id = %s AND originator_version = 1",
            (olga,),
        )

    report = verify(system.database_url, key=system.chain_key)

    assert [(p.kind, p.version) for p in report.problems] == [("event-altered", 1)]


def test_with_a_master_key_data_keys_are_stored_wrapped(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARGELEDGER_PERSONAL_DATA_KEY", base64.b64encode(b"m" * 32).decode())
    built = build_system(fresh_database_url, pool_size=2)
    try:
        emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, ACTOR), built.services).id
        ann = RegisterCustomer(emp, "Ann Wrapped", "ann@example.com", "prepaid", None, ACTOR)
        customer = handle(ann, built.services).id
        with psycopg.connect(fresh_database_url) as conn:
            row = conn.execute("SELECT data_key FROM personal_data_keys WHERE subject_id = %s", (customer,))
            stored_key = bytes(row.fetchone()[0])  # type: ignore[index]
        built.ledger.cache.evict(customer)
        built.ledger.mapper.keys.forget(customer)  # read the key back from the table
        assert stored_key[:1] == b"\x01" and len(stored_key) > 33
        assert built.ledger.get_customer(customer, emp).name == "Ann Wrapped"
    finally:
        built.close()
