"""Card payments as an outbox: the intent is recorded first, the card is charged with the
intent's id as idempotency key, and the outcome is recorded. After a crash between any two
steps, completing the payment again charges nothing twice and credits nothing twice.

A payment whose id comes from a request (a top-up's Idempotency-Key, a purchase, a debit's
attempt) is guarded by a CardPayment aggregate of that id: a second request of it collides, and
its outcome is known long after the customer has forgotten the payment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from commands.application import position_of
from commands.messages import CompleteCardPayment
from commands.ports import ChargeResult, PayingCustomer
from commands.unit_of_work import PaymentCompleted, Services, retrying
from domain.aggregates import CardPayment, Subscription
from domain.aggregates.card_payment import APPROVED
from domain.payments import Charge, PurchaseCharge


def request_card_payment(
    services: Services, emp_id: UUID, customer_id: UUID, payment_id: UUID, charge: Charge, actor: str
) -> bool:
    """Record the intent with its guard, once; False when this payment was requested before."""
    ledger = services.ledger

    def attempt() -> bool:
        if ledger.find_card_payment(payment_id) is not None:
            return False
        customer = ledger.get_customer(customer_id, emp_id)
        customer.request_card_payment(
            payment_id, charge, occurred_at=services.now_for(emp_id), caused_by=actor
        )
        guard = CardPayment(id=payment_id, emp_id=emp_id, customer_id=customer.id, purpose=charge.purpose)
        ledger.save(customer, guard)
        return True

    return retrying(attempt)


def pay_by_card(
    services: Services, emp_id: UUID, customer_id: UUID, payment_id: UUID, charge: Charge, actor: str
) -> PaymentCompleted:
    """Request a payment (unless it was requested before) and complete it: its outcome."""
    request_card_payment(services, emp_id, customer_id, payment_id, charge, actor)
    return complete_card_payment(CompleteCardPayment(customer_id, payment_id, actor), services)


def complete_card_payment(cmd: CompleteCardPayment, services: Services) -> PaymentCompleted:
    """Charge a requested payment and record its outcome."""
    ledger = services.ledger
    customer = ledger.find_customer(cmd.customer_id)
    if customer is None:
        raise LookupError(f"customer {cmd.customer_id} not found")
    if not customer.is_pending(cmd.payment_id):
        return recorded_outcome(services, cmd.payment_id)
    pending = customer.pending_payment(cmd.payment_id)
    if pending.processing_charge_id is not None:
        # Charged; the gateway tells the outcome (record_charge_outcome from its webhook).
        return PaymentCompleted(cmd.payment_id, None, created=False, processing=True)
    result = services.gateway.charge(
        token=pending.card_token,
        amount_minor=pending.charge.amount_minor,
        currency=customer.currency,
        idempotency_key=f"payment:{cmd.payment_id}",
        customer=PayingCustomer.of(customer),
        payment_id=cmd.payment_id,
    )
    return record_charge_outcome(
        services, customer.emp_id, cmd.customer_id, cmd.payment_id, result, cmd.actor
    )


def record_charge_outcome(
    services: Services,
    emp_id: UUID,
    customer_id: UUID,
    payment_id: UUID,
    result: ChargeResult,
    actor: str,
    *,
    also: Sequence[Any] = (),
) -> PaymentCompleted:
    """Record what the gateway answered (now, or later by webhook): once, the first outcome
    wins, so a late or repeated answer changes nothing. `also`: aggregates saved with it."""
    ledger = services.ledger

    def attempt() -> PaymentCompleted:
        current = ledger.get_customer(customer_id, emp_id)
        if not current.is_pending(payment_id):
            if also:
                ledger.save(*also)
            return recorded_outcome(services, payment_id)
        charge = current.pending_payment(payment_id).charge
        now = services.now_for(current.emp_id)
        changed: list[Any] = [current, *also]
        if result.processing:
            current.record_payment_processing(
                payment_id, charge_id=result.charge_id, occurred_at=now, caused_by=actor
            )
            position = position_of(ledger.save(*changed))
            return PaymentCompleted(payment_id, position, processing=True, charge_id=result.charge_id)
        if result.approved:
            current.settle_card_payment(
                payment_id, charge_id=result.charge_id, occurred_at=now, caused_by=actor
            )
            if isinstance(charge, PurchaseCharge):
                changed.append(_acquire_purchased_package(services, current.emp_id, charge, actor, now))
        else:
            current.record_payment_failure(
                payment_id,
                decline_code=result.decline_code or "declined",
                occurred_at=now,
                caused_by=actor,
            )
        guard = ledger.find_card_payment(payment_id)
        if guard is not None:
            guard.close(approved=result.approved, charge_id=result.charge_id)
            changed.append(guard)
        position = position_of(ledger.save(*changed))
        return PaymentCompleted(payment_id, position, approved=result.approved, charge_id=result.charge_id)

    return retrying(attempt)


def recorded_outcome(services: Services, payment_id: UUID) -> PaymentCompleted:
    """The outcome of a payment completed before."""
    guard = services.ledger.find_card_payment(payment_id)
    if guard is None or guard.outcome is None:
        return PaymentCompleted(payment_id, None, created=False)
    approved = guard.outcome == APPROVED
    return PaymentCompleted(payment_id, None, created=False, approved=approved, charge_id=guard.charge_id)


def _acquire_purchased_package(
    services: Services, emp_id: UUID, charge: PurchaseCharge, actor: str, now: datetime
) -> Subscription:
    subscription = services.ledger.get_subscription(charge.subscription_id, emp_id)
    subscription.record_acquisition(
        charge.terms,
        zone=services.ledger.get_emp(emp_id).zone,
        occurred_at=now,
        caused_by=actor,
        instance_id=charge.package_instance_id,
    )
    return subscription
