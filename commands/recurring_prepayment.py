"""Recurring Prepayment (seed 003): one debit per active recurring prepaid package per
period started by `as_of`, every missed period included; and, for a base package replaced
mid-period, the credit of its unused days once the change day has begun."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from commands.unit_of_work import Services, retrying


def debit_due_periods(
    services: Services, emp_id: UUID, subscription_id: UUID, as_of: datetime, actor: str
) -> int:
    """Debit every due period of one subscription; return how many were debited."""
    ledger = services.ledger

    def attempt() -> int:
        subscription = ledger.get_subscription(subscription_id, emp_id)
        zone = ledger.get_emp(emp_id).zone
        due = subscription.due_renewals(as_of, zone)
        credits = subscription.due_credits(as_of, zone)
        if not due and not credits:
            return 0
        customer = ledger.get_customer(subscription.customer_id, emp_id)
        now = services.now_for(emp_id)
        for package, period, amount_minor in credits:
            credit_id = uuid5(UUID(package["id"]), "unused-days")
            changed_at = package["cancelled_at"]
            customer.credit_unused_days(
                credit_id=credit_id,
                subscription_id=subscription.id,
                package_instance_id=UUID(package["id"]),
                package_code=package["code"],
                amount_minor=amount_minor,
                period_start=changed_at,
                period_end=period.end,
                occurred_at=changed_at,
                caused_by=actor,
            )
            subscription.record_unused_days_credited(
                package, credit_id, amount_minor, occurred_at=changed_at, caused_by=actor
            )
        for package, period, price_minor in due:
            debit_id = uuid5(UUID(package["id"]), f"period:{period.index}")
            customer.post_recurring_debit(
                debit_id=debit_id,
                subscription_id=subscription.id,
                package_instance_id=UUID(package["id"]),
                package_code=package["code"],
                amount_minor=price_minor,
                period_start=period.start,
                period_end=period.end,
                occurred_at=period.start,
                now=now,
                caused_by=actor,
            )
            subscription.record_period_debited(
                package, period, debit_id, price_minor, occurred_at=period.start, caused_by=actor
            )
        ledger.save(subscription, customer)
        return len(due) + len(credits)

    return retrying(attempt)
