"""The write-side eventsourcing Application holding every aggregate of every EMP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import Recording

from domain.aggregates import (
    ChargingSession,
    Customer,
    Emp,
    InvoiceNumbering,
    Package,
    PackageTerms,
    Subscription,
)
from domain.errors import NotFound


class Ledger(Application[UUID]):
    name = "Ledger"
    # Long-lived customers: a command's cost must not grow with the customer's age.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Customer: 100,
        Subscription: 100,
        InvoiceNumbering: 100,
    }

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._after_save: list[Callable[[int], None]] = []

    def on_saved(self, listener: Callable[[int], None]) -> None:
        """Call listener(position) after each save (wakes in-process projection workers)."""
        self._after_save.append(listener)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        recordings = super().save(*objs, **kwargs)
        if recordings:
            position = recordings[-1].notification.id
            for listener in self._after_save:
                listener(position)
        return recordings

    def get_emp(self, emp_id: UUID) -> Emp:
        return self._get(emp_id, Emp, "EMP")

    def get_customer(self, customer_id: UUID, emp_id: UUID) -> Customer:
        """The customer, if it exists and belongs to emp_id; otherwise not-found."""
        customer = self._get(customer_id, Customer, "customer")
        if customer.emp_id != emp_id:
            raise NotFound(f"customer {customer_id} not found")
        return customer

    def find_customer(self, customer_id: UUID) -> Customer | None:
        return self._find(customer_id, Customer)

    def find_package(self, emp_id: UUID, code: str) -> Package | None:
        return self._find(Package.create_id(emp_id, code), Package)

    def package_terms(self, emp_id: UUID, code: str) -> PackageTerms:
        package = self.find_package(emp_id, code)
        if package is None:
            raise NotFound(f"package {code!r} not found in the catalog")
        return PackageTerms(
            package_id=package.id,
            code=package.code,
            name=package.name,
            kind=package.kind,
            recurring=package.recurring,
            payment=package.payment,
            price_minor=package.price_minor,
        )

    def get_subscription(self, subscription_id: UUID, emp_id: UUID) -> Subscription:
        subscription = self._get(subscription_id, Subscription, "subscription")
        if subscription.emp_id != emp_id:
            raise NotFound(f"subscription {subscription_id} not found")
        return subscription

    def find_subscription(self, subscription_id: UUID) -> Subscription | None:
        return self._find(subscription_id, Subscription)

    def find_invoice_numbering(self, emp_id: UUID) -> InvoiceNumbering | None:
        return self._find(InvoiceNumbering.create_id(emp_id), InvoiceNumbering)

    def find_session(self, emp_id: UUID, session_id: str) -> ChargingSession | None:
        return self._find(ChargingSession.create_id(emp_id, session_id), ChargingSession)

    def _find(self, aggregate_id: UUID, kind: type[Any]) -> Any:
        try:
            return self._get(aggregate_id, kind, kind.__name__)
        except NotFound:
            return None

    def _get(self, aggregate_id: UUID, kind: type[Any], label: str) -> Any:
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"{label} {aggregate_id} not found") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"{label} {aggregate_id} not found")
        return aggregate


def position_of(recordings: list[Recording[UUID]]) -> int | None:
    return recordings[-1].notification.id if recordings else None
