"""Corrections by support: a compensating event that records who and why."""

from __future__ import annotations

import uuid
from uuid import uuid5

from commands.application import position_of
from commands.messages import RecordAdjustment
from commands.unit_of_work import BalanceChanged, Services, retrying


def record_adjustment(cmd: RecordAdjustment, services: Services) -> BalanceChanged:
    adjustment_id = (
        uuid5(cmd.customer_id, f"adjustment:{cmd.actor}:{cmd.request_key}")
        if cmd.request_key
        else uuid.uuid4()
    )

    def attempt() -> BalanceChanged:
        customer = services.ledger.get_customer(cmd.customer_id, cmd.emp_id)
        customer.record_adjustment(
            adjustment_id,
            amount_minor=cmd.amount_minor,
            reason=cmd.reason,
            occurred_at=services.now_for(cmd.emp_id),
            caused_by=cmd.actor,
        )
        position = position_of(services.ledger.save(customer))
        return BalanceChanged(
            adjustment_id, position, balance_minor=customer.balance_minor, sequence=customer.version
        )

    return retrying(attempt)
