"""The write-side eventsourcing Application holding every aggregate of every EMP."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import Recording, Transcoder

from commands.transcoder import FastDecodingJSONTranscoder
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


class SaveWatcher(Protocol):
    def saving(self) -> None:
        """A save is about to record events."""

    def saved(self, recordings: list[Recording[UUID]]) -> None:
        """The save ended: its committed recordings, none if it failed."""


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
        self._watchers: list[SaveWatcher] = []

    def construct_transcoder(self) -> Transcoder:
        transcoder = FastDecodingJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def watch_saves(self, watcher: SaveWatcher) -> None:
        """Tell watcher of each save as it starts and as it ends: in-process projection workers
        take the new events from there instead of reading them back from the log, and know to
        wait for them rather than race to the log when a save's NOTIFY arrives first."""
        self._watchers.append(watcher)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        for watcher in self._watchers:
            watcher.saving()
        recordings: list[Recording[UUID]] = []
        try:
            recordings = super().save(*objs, **kwargs)
        finally:
            for watcher in self._watchers:
                watcher.saved(recordings)
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
