"""A subscription: a tariff (the customer's account type), a billing day, and its packages."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFound, PackageNotAllowed, ValidationFailed
from domain.packages import PackageKind, PackageTerms, check_base_package, check_purchase
from domain.periods import Period, billing_period, renewal_periods_started_by

SUBSCRIPTION_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/subscriptions")


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
                "next_period": 0,
            }

    class PackageCancelled(Event):
        TOPIC = "chargeledger:Subscription.PackageCancelled"
        package_instance_id: UUID

        def apply(self, aggregate: Any) -> None:
            package = aggregate.packages[str(self.package_instance_id)]
            package["status"] = "cancelled"
            package["cancelled_at"] = self.occurred_at

    class PeriodDebited(Event):
        """A recurring prepaid package's period was debited (Recurring Prepayment)."""

        TOPIC = "chargeledger:Subscription.PeriodDebited"
        package_instance_id: UUID
        period_index: int
        period_start: datetime
        period_end: datetime
        debit_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.packages[str(self.package_instance_id)]["next_period"] = self.period_index + 1

    class PeriodInvoiced(Event):
        """A postpaid billing period was invoiced (Invoice Production)."""

        TOPIC = "chargeledger:Subscription.PeriodInvoiced"
        period_index: int
        period_start: datetime
        period_end: datetime
        invoice_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.next_invoice_period = self.period_index + 1

    @staticmethod
    def create_id(customer_id: UUID) -> UUID:
        # One subscription per customer: its sessions then have one invoice to land on.
        return uuid5(SUBSCRIPTION_NAMESPACE, str(customer_id))

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
        self.next_invoice_period = 0

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

    # --- billing -------------------------------------------------------------------------

    def recurring_prepaid_packages(self) -> list[dict[str, Any]]:
        if self.tariff != "prepaid":
            return []
        return [p for p in self.packages.values() if p["recurring"]]

    def due_renewals(self, as_of: datetime) -> list[tuple[dict[str, Any], Period]]:
        """Every period of a recurring prepaid package that started by `as_of` and is not
        debited yet; a cancelled package has no periods starting after its cancellation."""
        due = []
        for package in self.recurring_prepaid_packages():
            for period in renewal_periods_started_by(package["acquired_at"], package["next_period"], as_of):
                cancelled_at = package["cancelled_at"]
                if cancelled_at is not None and period.start >= cancelled_at:
                    break
                due.append((package, period))
        return due

    def record_period_debited(
        self,
        package: dict[str, Any],
        period: Period,
        debit_id: UUID,
        *,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.trigger_event(
            self.PeriodDebited,
            package_instance_id=UUID(package["id"]),
            period_index=period.index,
            period_start=period.start,
            period_end=period.end,
            debit_id=debit_id,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def completed_billing_periods(self, as_of: datetime) -> list[Period]:
        """Postpaid periods that ended by `as_of` and are not invoiced yet."""
        if self.tariff != "postpaid":
            return []
        periods = []
        index = self.next_invoice_period
        while (period := billing_period(self.started_at, self.billing_day, index)).end <= as_of:
            periods.append(period)
            index += 1
        return periods

    def record_period_invoiced(
        self, period: Period, invoice_id: UUID, *, occurred_at: datetime, caused_by: str
    ) -> None:
        if period.index != self.next_invoice_period:
            raise ValueError(f"period {period.index} is not the next to invoice")
        self.trigger_event(
            self.PeriodInvoiced,
            period_index=period.index,
            period_start=period.start,
            period_end=period.end,
            invoice_id=invoice_id,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
