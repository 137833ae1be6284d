"""Manual top-ups paid by the stored card."""

from __future__ import annotations

import uuid
from uuid import uuid5

from commands.card_payments import pay_by_card
from commands.messages import TopUpBalance
from commands.unit_of_work import BalanceChanged, Services
from domain.errors import PaymentDeclined
from domain.payments import TopUpCharge


def top_up_balance(cmd: TopUpBalance, services: Services) -> BalanceChanged:
    ledger = services.ledger
    customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
    payment_id = uuid5(customer.id, f"{cmd.actor}:{cmd.request_key}") if cmd.request_key else uuid.uuid4()
    completed = pay_by_card(
        services, cmd.emp_id, customer.id, payment_id, TopUpCharge(cmd.amount_minor), cmd.actor
    )
    if not completed.approved and not completed.processing:
        raise PaymentDeclined("the card was declined; the balance is unchanged")
    balance = ledger.get_customer(cmd.customer_id, cmd.emp_id).balance_minor
    return BalanceChanged(payment_id, completed.position, balance_minor=balance)
