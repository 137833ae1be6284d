"""Erasure of a customer's personal data (crypto-shredding, see commands/personal_data.py)."""

from __future__ import annotations

from commands.application import position_of
from commands.messages import ErasePersonalData
from commands.unit_of_work import Outcome, Services, retrying


def erase_personal_data(cmd: ErasePersonalData, services: Services) -> Outcome:
    """Record the erasure once (the read models scrub on it), then destroy the key and every
    plain copy: a repeat, or a retry after a failure between the two, finishes the job."""
    ledger = services.ledger

    def attempt() -> Outcome:
        customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
        customer.erase_personal_data(occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor)
        position = position_of(ledger.save(customer)) if customer.pending_events else None
        return Outcome(customer.id, position, created=False)

    outcome = retrying(attempt)
    ledger.erase_personal_data(cmd.customer_id)
    return outcome
