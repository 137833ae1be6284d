"""Card payments as an outbox: the intent is recorded first, the card is charged with the
intent's id as idempotency key, and the outcome is recorded. After a crash between any two
steps, completing the payment again charges nothing twice and credits nothing twice.

A payment whose id comes from a request (a top-up's Idempotency-Key, a purchase, a debit's
attempt) is guarded by a CardPayment aggregate of that id: a second request of it collides, and
its outcome is known long after the customer has forgotten the payment."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from commands.application import position_of
from commands.messages import CompleteCardPayment
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
    result = services.gateway.charge(
        token=pending.card_token,
        amount_minor=pending.charge.amount_minor,
        currency=customer.currency,
        idempotency_key=f"payment:{cmd.payment_id}",
    )

    def attempt() -> PaymentCompleted:
        current = ledger.get_customer(cmd.customer_id, customer.emp_id)
        if not current.is_pending(cmd.payment_id):
            return recorded_outcome(services, cmd.payment_id)
        charge = current.pending_payment(cmd.payment_id).charge
        now = services.now_for(customer.emp_id)
        changed: list[Any] = [current]
        if result.approved:
            current.settle_card_payment(
                cmd.payment_id, charge_id=result.charge_id, occurred_at=now, caused_by=cmd.actor
            )
            if isinstance(charge, PurchaseCharge):
                changed.append(_acquire_purchased_package(services, customer.emp_id, charge, cmd.actor, now))
        else:
            current.record_payment_failure(
                cmd.payment_id,
                decline_code=result.decline_code or "declined",
                occurred_at=now,
                caused_by=cmd.actor,
            )
        guard = ledger.find_card_payment(cmd.payment_id)
        if guard is not None:
            guard.close(approved=result.approved, charge_id=result.charge_id)
            changed.append(guard)
        position = position_of(ledger.save(*changed))
        return PaymentCompleted(
            cmd.payment_id, position, approved=result.approved, charge_id=result.charge_id
        )

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
