"""Recurring Payment (seed 003): every due, unpaid debit is paid from the prepaid balance when
it covers it, else by the stored card; otherwise a payment failure is recorded (the customer
gets a mail). One attempt per debit when it falls due (a second run changes nothing); what
stays unpaid is dunning's (commands/dunning.py: retries on the EMP's ladder of days)."""

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
    for debit_id, _ in customer.due_debits(as_of):
        attempt_id = uuid5(debit_id, "attempt:0")
        outcome = retrying(partial(pay_debit, services, emp_id, customer_id, debit_id, attempt_id, actor))
        if outcome == "settled":
            tally.settled += 1
        elif outcome == "failed":
            tally.failed += 1
    return tally


def pay_debit(
    services: Services,
    emp_id: UUID,
    customer_id: UUID,
    debit_id: UUID,
    attempt_id: UUID,
    actor: str,
    dunning_retry: bool = False,
) -> str:
    ledger = services.ledger
    customer = ledger.get_customer(customer_id, emp_id)
    debit = customer.unpaid_debits.get(str(debit_id))
    if debit is None:
        return "done"
    guard = ledger.find_card_payment(attempt_id)
    if guard is not None and guard.outcome is not None:
        return "done"  # this attempt was made already
    now = services.now_for(emp_id)
    earlier = customer.debit_payment_in_flight(debit_id)
    if guard is None and earlier is not None:
        # One card payment per debit at a time: a dunning retry or a new card while an earlier
        # charge is processing (or was cut off by a crash) completes that one, never a second.
        attempt_id = earlier
    elif guard is None:
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
        charge = DebitCharge(debit.amount_minor, debit_id, dunning_retry)
        customer.request_card_payment(attempt_id, charge, occurred_at=now, caused_by=actor)
        ledger.save(customer, guard)
    completed = complete_card_payment(CompleteCardPayment(customer_id, attempt_id, actor), services)
    if completed.processing:
        return "in flight"  # its outcome comes by the gateway's webhook
    return "settled" if completed.approved else "failed"
