"""A subscription: a tariff (the customer's account type), a billing day, and its packages."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidPeriod, NotFound, PackageNotAllowed, ValidationFailed
from domain.money import prorate
from domain.packages import PackageKind, PackageTerms, check_base_package, check_purchase
from domain.periods import Period, day_start, local_date, nominal_days, period_between, periods_from

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
        generation: int = 0

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
        renewal_day: int | None = None  # a recurring prepaid package's day of the month (local)

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
                "cancelled_at": None,  # active until then (exclusive)
                "next_period": 0,
                "debited_until": None,  # the end of its last debited period
                "renewal_day": self.renewal_day,
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
        amount_minor: int | None = None  # recorded since base packages change mid-period

        def apply(self, aggregate: Any) -> None:
            package = aggregate.packages[str(self.package_instance_id)]
            package["next_period"] = self.period_index + 1
            package["debited_until"] = self.period_end
            package["debited"] = {"start": self.period_start, "amount_minor": self.amount_minor}

    class UnusedDaysCredited(Event):
        """A replaced prepaid base package's last debited period, credited for the days from
        the change (Recurring Prepayment, once the change day has come)."""

        TOPIC = "chargeledger:Subscription.UnusedDaysCredited"
        package_instance_id: UUID
        credit_id: UUID
        amount_minor: int

        def apply(self, aggregate: Any) -> None:
            aggregate.packages[str(self.package_instance_id)]["credited"] = True

    class PeriodInvoiced(Event):
        """A postpaid billing period was invoiced (Invoice Production)."""

        TOPIC = "chargeledger:Subscription.PeriodInvoiced"
        period_index: int
        period_start: datetime
        period_end: datetime
        invoice_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.next_invoice_period = self.period_index + 1
            aggregate.invoiced_until = self.period_end

    class Ended(Event):
        """The subscription ends at `ended_at`: recurring packages stop, a postpaid one's last
        period runs to it."""

        TOPIC = "chargeledger:Subscription.Ended"
        ended_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.ended_at = self.ended_at

    class BasePackageChanged(Event):
        """The base package is replaced at `changed_at`: the old one is active until
        `replaced_until` (the change day's local midnight: the day goes to the new one)."""

        TOPIC = "chargeledger:Subscription.BasePackageChanged"
        from_instance_id: UUID
        to_instance_id: UUID
        changed_at: datetime
        replaced_until: datetime

        def apply(self, aggregate: Any) -> None:
            package = aggregate.packages[str(self.from_instance_id)]
            package["status"] = "replaced"
            package["cancelled_at"] = self.replaced_until

    @staticmethod
    def create_id(customer_id: UUID, generation: int = 0) -> UUID:
        # One subscription at a time per customer (its sessions then have one invoice to land
        # on); the one after an ended one is the next generation.
        name = str(customer_id) if generation == 0 else f"{customer_id}:{generation}"
        return uuid5(SUBSCRIPTION_NAMESPACE, name)

    @classmethod
    def start(
        cls,
        *,
        emp_id: UUID,
        customer_id: UUID,
        tariff: str,
        base: PackageTerms,
        billing_day: int | None,
        zone: ZoneInfo,
        occurred_at: datetime,
        caused_by: str,
        generation: int = 0,
    ) -> Subscription:
        """`occurred_at` is when it starts (business time, possibly in the past)."""
        check_base_package(base.kind, base.payment, tariff)
        day = local_date(occurred_at, zone).day if billing_day is None else billing_day
        if not 1 <= day <= 31:
            raise ValidationFailed("billing_day must be from 1 to 31", field="billing_day")
        subscription = cls(
            emp_id=emp_id,
            customer_id=customer_id,
            tariff=tariff,
            billing_day=day,
            occurred_at=occurred_at,
            caused_by=caused_by,
            generation=generation,
        )
        subscription.record_acquisition(base, zone=zone, occurred_at=occurred_at, caused_by=caused_by)
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
        generation: int = 0,
    ) -> None:
        self.emp_id = emp_id
        self.customer_id = customer_id
        self.tariff = tariff
        self.billing_day = billing_day
        self.started_at = occurred_at
        self.generation = generation
        self.packages: dict[str, dict[str, Any]] = {}
        self.next_invoice_period = 0
        self.invoiced_until: datetime | None = None
        self.ended_at: datetime | None = None

    def check_purchase(self, terms: PackageTerms, now: datetime) -> None:
        if self.ended_at is not None and self.ended_at <= now:
            raise PackageNotAllowed(f"this subscription ended at {self.ended_at.isoformat()}")
        check_purchase(terms.kind, terms.recurring, terms.payment, self.tariff)

    def record_acquisition(
        self,
        terms: PackageTerms,
        *,
        zone: ZoneInfo,
        occurred_at: datetime,
        caused_by: str,
        instance_id: UUID | None = None,
        renewal_day: int | None = None,
    ) -> UUID:
        """A recurring package renews on the local day of its acquisition (or `renewal_day`)."""
        instance = instance_id or uuid4()
        self.trigger_event(
            self.PackageAcquired,
            package_instance_id=instance,
            occurred_at=occurred_at,
            caused_by=caused_by,
            renewal_day=(renewal_day or local_date(occurred_at, zone).day) if terms.recurring else None,
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

    def base_package(self) -> dict[str, Any]:
        return next(
            p for p in self.packages.values() if p["kind"] == PackageKind.BASE and p["status"] == "active"
        )

    def due_renewals(self, as_of: datetime, zone: ZoneInfo) -> list[tuple[dict[str, Any], Period, int]]:
        """Every period of a recurring prepaid package that started by `as_of` and is not
        debited yet, from local midnight to local midnight on its renewal day, with its price
        (prorated by days when the period is shorter than its month: a new base package's
        first one); none starts once the package is cancelled or replaced, or the
        subscription has ended."""
        due = []
        for package in self.recurring_prepaid_packages():
            start = package["debited_until"] or day_start(package["acquired_at"], zone)
            day = package["renewal_day"] or local_date(package["acquired_at"], zone).day
            stops = [at for at in (package["cancelled_at"], self.ended_at) if at is not None]
            for period in periods_from(package["next_period"], start, day, zone):
                if period.start > as_of or any(period.start >= at for at in stops):
                    break
                of_days = nominal_days(period, day, zone)
                price = package["price_minor"]
                due.append(
                    (
                        package,
                        period,
                        price if period.days >= of_days else prorate(price, period.days, of_days),
                    )
                )
        return due

    def record_period_debited(
        self,
        package: dict[str, Any],
        period: Period,
        debit_id: UUID,
        amount_minor: int,
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
            amount_minor=amount_minor,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def due_credits(self, as_of: datetime, zone: ZoneInfo) -> list[tuple[dict[str, Any], Period, int]]:
        """Each replaced prepaid package whose debited period reaches past the change day,
        once that day has begun by `as_of`: the period of the change and the part of what was
        debited for it that falls on the days from the change on, prorated by days."""
        due = []
        for package in self.recurring_prepaid_packages():
            debited, replaced_until = package.get("debited"), package["cancelled_at"]
            if package["status"] != "replaced" or package.get("credited") or debited is None:
                continue
            if debited["amount_minor"] is None or replaced_until > as_of:
                continue
            if package["debited_until"] <= replaced_until:
                continue
            period = period_between(0, debited["start"], package["debited_until"], zone)
            used = period_between(0, debited["start"], replaced_until, zone).days
            amount = debited["amount_minor"] - prorate(debited["amount_minor"], used, period.days)
            due.append((package, period, amount))
        return due

    def record_unused_days_credited(
        self,
        package: dict[str, Any],
        credit_id: UUID,
        amount_minor: int,
        *,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.trigger_event(
            self.UnusedDaysCredited,
            package_instance_id=UUID(package["id"]),
            credit_id=credit_id,
            amount_minor=amount_minor,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def completed_billing_periods(self, as_of: datetime, zone: ZoneInfo) -> list[Period]:
        """Postpaid periods that ended by `as_of` and are not invoiced yet: the first from the
        start day to the first billing date, then month by month on the billing day; an ended
        subscription's last one runs to its end."""
        if self.tariff != "postpaid":
            return []
        periods = []
        start = self.invoiced_until or day_start(self.started_at, zone)
        for period in periods_from(self.next_invoice_period, start, self.billing_day, zone):
            if self.ended_at is not None:
                if period.start >= self.ended_at:
                    break
                if period.end > self.ended_at:
                    period = period.ending_at(self.ended_at, zone)
            if period.end > as_of:
                break
            periods.append(period)
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

    # --- lifecycle -----------------------------------------------------------------------

    def end(self, at: datetime, *, now: datetime, occurred_at: datetime, caused_by: str) -> None:
        """End at `at` (not in the past): recurring packages stop, the last postpaid period
        runs to it and is invoiced, prorated, by the first Invoice Production run after it."""
        if self.ended_at is not None:
            raise PackageNotAllowed(f"this subscription ended at {self.ended_at.isoformat()}")
        if at < now:
            raise InvalidPeriod("at: a subscription cannot end in the past", field="at")
        self.trigger_event(self.Ended, ended_at=at, occurred_at=occurred_at, caused_by=caused_by)

    def change_base_package(
        self, terms: PackageTerms, at: datetime, *, zone: ZoneInfo, now: datetime, caused_by: str
    ) -> UUID:
        """Replace the base package at `at` (not in the past): in the period of the change the
        old one counts the days before the change day, the new one the days from it; a
        recurring new one renews on the old one's day."""
        if self.ended_at is not None:
            raise PackageNotAllowed("an ended subscription's base package does not change")
        if at < now:
            raise InvalidPeriod("at: the base package cannot change in the past", field="at")
        check_base_package(terms.kind, terms.payment, self.tariff)
        old = self.base_package()
        if old["package_id"] == str(terms.package_id):
            raise PackageNotAllowed(f"the base package is {terms.code!r} already")
        instance = self.record_acquisition(
            terms, zone=zone, occurred_at=at, caused_by=caused_by, renewal_day=old["renewal_day"]
        )
        self.trigger_event(
            self.BasePackageChanged,
            from_instance_id=UUID(old["id"]),
            to_instance_id=instance,
            changed_at=at,
            replaced_until=day_start(at, zone),
            occurred_at=now,
            caused_by=caused_by,
        )
        return instance
