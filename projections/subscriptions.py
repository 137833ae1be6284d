"""The catalog and billing read model: packages, subscriptions, acquired packages, invoices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import singledispatchmethod
from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.aggregates import Invoice, Package, Subscription
from domain.instants import utc_text
from projections.pipeline import AsyncProjection, Logged


class SubscriptionsProjection(AsyncProjection):
    name = "subscriptions"
    topics = (
        Package.Defined.TOPIC,
        Subscription.Started.TOPIC,
        Subscription.PackageAcquired.TOPIC,
        Subscription.PackageCancelled.TOPIC,
        Subscription.Ended.TOPIC,
        Subscription.BasePackageChanged.TOPIC,
        Invoice.Issued.TOPIC,
    )
    tables = ("packages", "subscription_packages", "subscriptions", "invoices")

    def apply(self, cursor: Cursor[Any], events: Sequence[Logged]) -> None:
        for logged in events:
            self.apply_event(logged.event, cursor)

    @singledispatchmethod
    def apply_event(self, domain_event: Any, cursor: Cursor[Any]) -> None:
        """Events of no interest here."""

    @apply_event.register
    def _(self, e: Package.Defined, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO packages (id, emp_id, code, name, kind, recurring, payment, price_minor,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                e.originator_id,
                e.emp_id,
                e.code,
                e.name,
                e.kind,
                e.recurring,
                e.payment,
                e.price_minor,
                e.timestamp,
            ),
        )

    @apply_event.register
    def _(self, e: Subscription.Started, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO subscriptions (id, emp_id, customer_id, tariff, billing_day, started_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (e.originator_id, e.emp_id, e.customer_id, e.tariff, e.billing_day, e.occurred_at),
        )

    @apply_event.register
    def _(self, e: Subscription.PackageAcquired, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO subscription_packages (id, subscription_id, package_id, code, name, kind,"
            " recurring, payment, price_minor, acquired_at, status)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'active')",
            (
                e.package_instance_id,
                e.originator_id,
                e.package_id,
                e.code,
                e.name,
                e.kind,
                e.recurring,
                e.payment,
                e.price_minor,
                e.occurred_at,
            ),
        )

    @apply_event.register
    def _(self, e: Subscription.PackageCancelled, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "UPDATE subscription_packages SET status = 'cancelled', cancelled_at = %s WHERE id = %s",
            (e.occurred_at, e.package_instance_id),
        )

    @apply_event.register
    def _(self, e: Subscription.Ended, cursor: Cursor[Any]) -> None:
        cursor.execute("UPDATE subscriptions SET ended_at = %s WHERE id = %s", (e.ended_at, e.originator_id))

    @apply_event.register
    def _(self, e: Subscription.BasePackageChanged, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "UPDATE subscription_packages SET status = 'replaced', cancelled_at = %s WHERE id = %s",
            (e.changed_at, e.from_instance_id),
        )

    @apply_event.register
    def _(self, e: Invoice.Issued, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO invoices (id, emp_id, customer_id, subscription_id, sequence, number,"
            " period_index, period_start, period_end, currency, vat_rate_bp, lines, net_minor,"
            " vat_minor, total_minor, issued_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                e.originator_id,
                e.emp_id,
                e.customer_id,
                e.subscription_id,
                e.sequence,
                e.number,
                e.period_index,
                e.period_start,
                e.period_end,
                e.currency,
                e.vat_rate_bp,
                Jsonb([_json_line(line) for line in e.lines]),
                e.net_minor,
                e.vat_minor,
                e.total_minor,
                e.occurred_at,
            ),
        )


def _json_line(line: dict[str, Any]) -> dict[str, Any]:
    return {key: utc_text(value) if isinstance(value, datetime) else value for key, value in line.items()}
