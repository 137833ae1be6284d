"""What the batch jobs need to find their work: a port, filled from the read models."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.aggregates.invoice import UninvoicedSession


class BillingQueries(Protocol):
    def prepaid_subscriptions_with_recurring_packages(self) -> list[tuple[UUID, UUID]]:
        """(emp_id, subscription_id) pairs."""
        ...

    def customers_to_dun(self, due_by: datetime) -> list[tuple[UUID, UUID]]:
        """(emp_id, customer_id) pairs, sorted, with a debit or an open invoice due by then, or
        in dunning."""
        ...

    def overdue_invoices(self, customer_id: UUID, due_by: datetime) -> list[tuple[UUID, datetime]]:
        """The customer's open invoices due by then: (invoice_id, due_at)."""
        ...

    def postpaid_subscriptions(self) -> list[tuple[UUID, UUID]]:
        """(emp_id, subscription_id) pairs."""
        ...

    def uninvoiced_sessions(self, customer_id: UUID, ended_before: datetime) -> list[UninvoicedSession]:
        """The customer's sessions that ended before then and no invoice holds yet. Read from
        a model written with the events, so it holds every session recorded so far."""
        ...
