"""Charging sessions: recorded whatever the balance, once per EMP and session_id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

from commands.application import position_of
from commands.messages import RecordSession
from commands.unit_of_work import Outcome, Services, retrying
from domain.aggregates import ChargingSession
from domain.errors import Duplicate, InvalidPeriod
from domain.money import check_amount

# Clocks of charge points drift: an end this far ahead of ours is still "now".
CLOCK_SKEW = timedelta(minutes=5)


def check_session(cmd: RecordSession, services: Services) -> None:
    if cmd.ended_at < cmd.started_at:
        raise InvalidPeriod("ended_at is before started_at", field="ended_at")
    if cmd.ended_at > services.clock.now() + CLOCK_SKEW:
        raise InvalidPeriod("ended_at is in the future", field="ended_at")
    check_amount(cmd.cost_minor, "cost_minor", allow_zero=True)


def record_session(cmd: RecordSession, services: Services) -> Outcome:
    check_session(cmd, services)
    ledger = services.ledger
    data: dict[str, Any] = {
        "customer_id": cmd.customer_id,
        "started_at": cmd.started_at,
        "ended_at": cmd.ended_at,
        "energy_wh": cmd.energy_wh,
        "cost_minor": cmd.cost_minor,
        "location": cmd.location,
    }

    def repeated() -> Outcome | None:
        existing = ledger.find_session(cmd.emp_id, cmd.session_id)
        if existing is None:
            return None
        if not existing.same_data(**data):
            raise Duplicate(f"session_id {cmd.session_id!r} was recorded with other data", field="session_id")
        return Outcome(
            existing.customer_id, None, created=False, extra={"balance_minor": existing.balance_after_minor}
        )

    def attempt() -> Outcome:
        customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
        customer.charge_session(
            session_id=cmd.session_id,
            started_at=cmd.started_at,
            ended_at=cmd.ended_at,
            energy_wh=cmd.energy_wh,
            cost_minor=cmd.cost_minor,
            location=cmd.location,
            occurred_at=cmd.ended_at,
            now=services.clock.now(),
            caused_by=cmd.actor,
        )
        session = ChargingSession(
            emp_id=cmd.emp_id,
            session_id=cmd.session_id,
            balance_after_minor=customer.balance_minor,
            **data,
        )
        try:
            position = position_of(ledger.save(customer, session))
        except IntegrityError:
            # The session's id collided (a repeat) or the customer moved on (retry).
            if (first := repeated()) is not None:
                return first
            raise
        return Outcome(customer.id, position, extra={"balance_minor": customer.balance_minor})

    # Sessions are new far more often than repeated: write first, look only on a collision.
    return retrying(attempt)
