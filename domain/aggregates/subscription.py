"""A subscription: a tariff (the customer's account type), a billing day, and its packages."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFound, PackageNotAllowed, ValidationFailed
from domain.packages import PackageKind, check_base_package, check_purchase


@dataclass(frozen=True)
class PackageTerms:
    """A catalog package as acquired: its terms are copied, later catalog edits do not apply."""

    package_id: UUID
    code: str
    name: str
    kind: str
    recurring: bool
    payment: str
    price_minor: int


class Subscription(Aggregate):
    TOPIC = "chargeledger:Subscription"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:Subscription.Event"
        occurred_at: datetime
        caused_by: str

    class Started(Aggregate.Created):
        TOPIC = "chargeledger:Subscription.Started"
        emp_id: UUID
        customer_id: UUID
        tariff: str
        billing_day: int
        occurred_at: datetime
        caused_by: str

    class PackageAcquired(Event):
        TOPIC = "chargeledger:Subscription.PackageAcquired"
        package_instance_id: UUID
        package_id: UUID
        code: str
        name: str
        kind: str
        recurring: bool
        payment: str
        price_minor: int

        def apply(self, aggregate: Any) -> None:
            aggregate.packages[str(self.package_instance_id)] = {
                "id": str(self.package_instance_id),
                "package_id": str(self.package_id),
                "code": self.code,
                "name": self.name,
                "kind": self.kind,
                "recurring": self.recurring,
                "payment": self.payment,
                "price_minor": self.price_minor,
                "acquired_at": self.occurred_at,
                "status": "active",
                "cancelled_at": None,
            }

    class PackageCancelled(Event):
        TOPIC = "chargeledger:Subscription.PackageCancelled"
        package_instance_id: UUID

        def apply(self, aggregate: Any) -> None:
            package = aggregate.packages[str(self.package_instance_id)]
            package["status"] = "cancelled"
            package["cancelled_at"] = self.occurred_at

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return uuid4()

    @classmethod
    def start(
        cls,
        *,
        emp_id: UUID,
        customer_id: UUID,
        tariff: str,
        base: PackageTerms,
        billing_day: int | None,
        occurred_at: datetime,
        caused_by: str,
    ) -> Subscription:
        check_base_package(base.kind, base.payment, tariff)
        day = occurred_at.day if billing_day is None else billing_day
        if not 1 <= day <= 31:
            raise ValidationFailed("billing_day must be from 1 to 31", field="billing_day")
        subscription = cls(
            emp_id=emp_id,
            customer_id=customer_id,
            tariff=tariff,
            billing_day=day,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
        subscription.record_acquisition(base, occurred_at=occurred_at, caused_by=caused_by)
        return subscription

    @event(Started)
    def __init__(
        self,
        emp_id: UUID,
        customer_id: UUID,
        tariff: str,
        billing_day: int,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.emp_id = emp_id
        self.customer_id = customer_id
        self.tariff = tariff
        self.billing_day = billing_day
        self.started_at = occurred_at
        self.packages: dict[str, dict[str, Any]] = {}

    def check_purchase(self, terms: PackageTerms) -> None:
        check_purchase(terms.kind, terms.recurring, terms.payment, self.tariff)

    def record_acquisition(
        self,
        terms: PackageTerms,
        *,
        occurred_at: datetime,
        caused_by: str,
        instance_id: UUID | None = None,
    ) -> UUID:
        instance = instance_id or uuid4()
        self.trigger_event(
            self.PackageAcquired,
            package_instance_id=instance,
            occurred_at=occurred_at,
            caused_by=caused_by,
            **asdict(terms),
        )
        return instance

    def cancel(self, package_instance_id: UUID, *, occurred_at: datetime, caused_by: str) -> None:
        package = self.packages.get(str(package_instance_id))
        if package is None:
            raise NotFound(f"package {package_instance_id} not found on this subscription")
        if package["kind"] == PackageKind.BASE:
            raise PackageNotAllowed("the base package ends only with the subscription")
        if package["status"] == "cancelled":
            return
        self.trigger_event(
            self.PackageCancelled,
            package_instance_id=package_instance_id,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
