"""Card payments as an outbox: the intent is recorded first, the card is charged with the
intent's id as idempotency key, and the outcome is recorded. After a crash between any two
steps, completing the payment again charges nothing twice and credits nothing twice."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands.application import position_of
from commands.messages import CompleteCardPayment
from commands.unit_of_work import Outcome, Services, retrying
from domain.aggregates import PackageTerms, PaymentPurpose


def complete_card_payment(cmd: CompleteCardPayment, services: Services) -> Outcome:
    """Charge a requested payment and record its outcome: 'approved' or 'declined'."""
    ledger = services.ledger
    customer = ledger.find_customer(cmd.customer_id)
    if customer is None:
        raise LookupError(f"customer {cmd.customer_id} not found")
    outcome = customer.payment_outcome(cmd.payment_id)
    if outcome is not None:
        return Outcome(customer.id, None, created=False, extra={"outcome": outcome})
    payment = customer.pending_payment(cmd.payment_id)
    result = services.gateway.charge(
        token=payment["details"]["card_token"],
        amount_minor=payment["amount_minor"],
        currency=customer.currency,
        idempotency_key=f"payment:{cmd.payment_id}",
    )

    def attempt() -> Outcome:
        current = ledger.get_customer(cmd.customer_id, customer.emp_id)
        recorded = current.payment_outcome(cmd.payment_id)
        if recorded is not None:
            return Outcome(current.id, None, created=False, extra={"outcome": recorded})
        now = services.clock.now()
        changed: list[Any] = [current]
        if result.approved:
            pending = current.pending_payment(cmd.payment_id)
            current.settle_card_payment(
                cmd.payment_id, charge_id=result.charge_id, occurred_at=now, caused_by=cmd.actor
            )
            if pending["purpose"] == PaymentPurpose.PACKAGE_PURCHASE:
                changed.append(_acquire_purchased_package(services, pending["details"], cmd, now))
            outcome = "approved"
        else:
            current.record_payment_failure(
                cmd.payment_id,
                decline_code=result.decline_code or "declined",
                occurred_at=now,
                caused_by=cmd.actor,
            )
            outcome = "declined"
        position = position_of(ledger.save(*changed))
        return Outcome(current.id, position, extra={"outcome": outcome, "charge_id": result.charge_id})

    return retrying(attempt)


def _acquire_purchased_package(
    services: Services, details: dict[str, Any], cmd: CompleteCardPayment, now: Any
) -> Any:
    subscription = services.ledger.get_subscription(UUID(details["subscription_id"]), UUID(details["emp_id"]))
    terms = PackageTerms(
        package_id=UUID(details["package_id"]),
        code=details["package_code"],
        name=details["package_name"],
        kind=details["package_kind"],
        recurring=details["package_recurring"],
        payment=details["package_payment"],
        price_minor=details["price_minor"],
    )
    subscription.record_acquisition(
        terms,
        occurred_at=now,
        caused_by=cmd.actor,
        instance_id=UUID(details["package_instance_id"]),
    )
    return subscription
