"""What the batch jobs need to find their work: a port, filled from the read models."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID


class BillingQueries(Protocol):
    def prepaid_subscriptions_with_recurring_packages(self) -> list[tuple[UUID, UUID]]:
        """(emp_id, subscription_id) pairs."""
        ...

    def customers_with_unpaid_debits(self, due_by: datetime) -> list[tuple[UUID, UUID]]:
        """(emp_id, customer_id) pairs with a debit due by then."""
        ...

    def postpaid_subscriptions(self) -> list[tuple[UUID, UUID]]:
        """(emp_id, subscription_id) pairs."""
        ...
