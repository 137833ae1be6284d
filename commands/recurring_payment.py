"""Recurring Payment (seed 003): every due, unpaid debit is paid from the prepaid balance when
it covers it, else by the stored card; otherwise a payment failure is recorded (the customer
gets a mail) and a later run tries again: one attempt per debit in each window of
RETRY_DAYS days after it fell due, so a second run in the same window changes nothing and a
declined customer is not mailed every night."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID, uuid5

from commands.card_payments import complete_card_payment
from commands.messages import CompleteCardPayment
from commands.unit_of_work import Services, retrying
from domain.aggregates import CardPayment
from domain.payments import DebitCharge

RETRY_DAYS = 3


@dataclass
class PaymentTally:
    settled: int = 0
    failed: int = 0


def pay_due_debits(
    services: Services, emp_id: UUID, customer_id: UUID, as_of: datetime, actor: str
) -> PaymentTally:
    ledger = services.ledger
    tally = PaymentTally()
    customer = ledger.get_customer(customer_id, emp_id)
    if customer.auto_top_up_in_flight is not None:
        # An automatic top-up on its way (the debit itself may have asked for it): completed
        # first, the balance pays what it then covers, and the card is not charged twice.
        in_flight = UUID(customer.auto_top_up_in_flight)
        complete_card_payment(CompleteCardPayment(customer_id, in_flight, actor), services)
        customer = ledger.get_customer(customer_id, emp_id)
    for debit_id, debit in customer.due_debits(as_of):
        window = (as_of.date() - debit.due_at.date()).days // RETRY_DAYS
        attempt_id = uuid5(debit_id, f"attempt:{window}")
        outcome = retrying(partial(_pay, services, emp_id, customer_id, debit_id, attempt_id, actor))
        if outcome == "settled":
            tally.settled += 1
        elif outcome == "failed":
            tally.failed += 1
    return tally


def _pay(
    services: Services, emp_id: UUID, customer_id: UUID, debit_id: UUID, attempt_id: UUID, actor: str
) -> str:
    ledger = services.ledger
    customer = ledger.get_customer(customer_id, emp_id)
    debit = customer.unpaid_debits.get(str(debit_id))
    if debit is None:
        return "done"
    guard = ledger.find_card_payment(attempt_id)
    if guard is not None and guard.outcome is not None:
        return "done"  # this window's attempt was made already
    now = services.now_for(emp_id)
    if guard is None:
        if customer.settle_debit_from_balance(debit_id, occurred_at=now, caused_by=actor):
            ledger.save(customer)
            return "settled"
        guard = CardPayment(
            id=attempt_id, emp_id=emp_id, customer_id=customer.id, purpose=DebitCharge.purpose
        )
        if customer.card is None:
            customer.record_unpayable_debit(
                debit_id, attempt_id, reason="no_card", occurred_at=now, caused_by=actor
            )
            guard.close(approved=False, charge_id="")
            ledger.save(customer, guard)
            return "failed"
        customer.request_card_payment(
            attempt_id, DebitCharge(debit.amount_minor, debit_id), occurred_at=now, caused_by=actor
        )
        ledger.save(customer, guard)
    completed = complete_card_payment(CompleteCardPayment(customer_id, attempt_id, actor), services)
    if completed.processing:
        return "in flight"  # its outcome comes by the gateway's webhook
    return "settled" if completed.approved else "failed"
