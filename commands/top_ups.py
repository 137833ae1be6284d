"""Manual top-ups paid by the stored card."""

from __future__ import annotations

import uuid
from uuid import uuid5

from commands.card_payments import complete_card_payment
from commands.messages import CompleteCardPayment, TopUpBalance
from commands.unit_of_work import Outcome, Services, retrying
from domain.aggregates import Customer, PaymentPurpose
from domain.errors import PaymentDeclined


def top_up_balance(cmd: TopUpBalance, services: Services) -> Outcome:
    ledger = services.ledger
    customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
    payment_id = uuid5(customer.id, f"{cmd.actor}:{cmd.request_key}") if cmd.request_key else uuid.uuid4()

    def request() -> Customer:
        current = ledger.get_customer(cmd.customer_id, cmd.emp_id)
        if not current.has_payment(payment_id):
            current.request_card_payment(
                payment_id=payment_id,
                purpose=PaymentPurpose.MANUAL_TOP_UP,
                amount_minor=cmd.amount_minor,
                details={},
                occurred_at=services.clock.now(),
                caused_by=cmd.actor,
            )
            ledger.save(current)
        return current

    retrying(request)
    outcome = complete_card_payment(CompleteCardPayment(customer.id, payment_id, cmd.actor), services)
    if outcome.extra["outcome"] != "approved":
        raise PaymentDeclined("the card was declined; the balance is unchanged")
    balance = ledger.get_customer(cmd.customer_id, cmd.emp_id).balance_minor
    return Outcome(payment_id, outcome.position, extra={"balance_minor": balance})
