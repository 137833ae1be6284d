"""The catalog and billing read model: packages, subscriptions, acquired packages, invoices,
their payments and credit notes, and the invoice mail queued for customers (outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import uuid5

from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.aggregates import CreditNote, Customer, Invoice, Package, Subscription
from domain.instants import utc_text
from domain.notifications import document_mail
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
        Invoice.PaymentRecorded.TOPIC,
        Invoice.Credited.TOPIC,
        Invoice.Paid.TOPIC,
        CreditNote.Issued.TOPIC,
        Customer.PersonalDataErased.TOPIC,
    )
    # The mail outbox is not emptied by a rebuild: each document's mail is in it once, sent or not.
    tables = (
        "packages",
        "subscription_packages",
        "subscriptions",
        "invoices",
        "invoice_payments",
        "credit_notes",
    )

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
            " vat_minor, total_minor, issued_at, seller, buyer, due_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
                Jsonb(
                    [_json_line(line, position, e.vat_rate_bp) for position, line in enumerate(e.lines, 1)]
                ),
                e.net_minor,
                e.vat_minor,
                e.total_minor,
                e.occurred_at,
                None if e.seller is None else Jsonb(e.seller),
                None if e.buyer is None else Jsonb(e.buyer),
                e.due_at,
            ),
        )
        if e.delivery == "email" and e.buyer:
            _queue_document_mail(cursor, e, "invoice", e.number, e.buyer)

    @apply_event.register
    def _(self, e: Invoice.PaymentRecorded, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO invoice_payments (id, invoice_id, emp_id, amount_minor, paid_at, reference,"
            " recorded_at) SELECT %s, id, emp_id, %s, %s, %s, %s FROM invoices WHERE id = %s",
            (e.payment_id, e.amount_minor, e.paid_at, e.reference, e.timestamp, e.originator_id),
        )
        cursor.execute(
            "UPDATE invoices SET amount_paid_minor = amount_paid_minor + %s WHERE id = %s",
            (e.amount_minor, e.originator_id),
        )

    @apply_event.register
    def _(self, e: Invoice.Credited, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "UPDATE invoices SET credited_minor = credited_minor + %s WHERE id = %s",
            (e.total_minor, e.originator_id),
        )

    @apply_event.register
    def _(self, e: Invoice.Paid, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "UPDATE invoices SET status = 'paid', paid_at = %s WHERE id = %s",
            (e.occurred_at, e.originator_id),
        )

    @apply_event.register
    def _(self, e: CreditNote.Issued, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO credit_notes (id, emp_id, customer_id, invoice_id, invoice_number,"
            " invoice_issued_at, sequence, number, currency, reason, lines, net_minor, vat_minor,"
            " total_minor, seller, buyer, issued_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                e.originator_id,
                e.emp_id,
                e.customer_id,
                e.invoice_id,
                e.invoice_number,
                e.invoice_issued_at,
                e.sequence,
                e.number,
                e.currency,
                e.reason,
                Jsonb(e.lines),
                e.net_minor,
                e.vat_minor,
                e.total_minor,
                None if e.seller is None else Jsonb(e.seller),
                None if e.buyer is None else Jsonb(e.buyer),
                e.occurred_at,
            ),
        )
        if e.delivery == "email" and e.buyer:
            _queue_document_mail(cursor, e, "credit_note", e.number, e.buyer)

    @apply_event.register
    def _(self, e: Customer.PersonalDataErased, cursor: Cursor[Any]) -> None:
        # Amounts, numbers and lines stay; the buyer's details go (docs/personal-data.md).
        for table in ("invoices", "credit_notes"):
            cursor.execute(f"UPDATE {table} SET buyer = NULL WHERE customer_id = %s", (e.originator_id,))


def _queue_document_mail(cursor: Cursor[Any], e: Any, kind: str, number: str, buyer: dict[str, Any]) -> None:
    """Exactly one mail per issued document, written in the projection's own transaction; the
    PDF is rendered from the read model when the mail is sent."""
    mail = document_mail(kind=kind, number=number, name=buyer["name"], seller=(e.seller or {}))
    cursor.execute(
        "INSERT INTO mail_outbox (id, emp_id, customer_id, recipient, subject, body, created_at,"
        " next_attempt_at, attachment_kind, attachment_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        # A rebuild replays the documents: the mail of each is in the outbox once, sent or not.
        " ON CONFLICT (id) DO NOTHING",
        (
            uuid5(e.originator_id, f"{kind}-mail"),
            e.emp_id,
            e.customer_id,
            buyer["email"],
            mail.subject,
            mail.body,
            e.timestamp,
            e.timestamp,
            kind,
            e.originator_id,
        ),
    )


def _json_line(line: dict[str, Any], position: int, vat_rate_bp: int) -> dict[str, Any]:
    # Invoices issued before lines had positions and rates get them here, in their order.
    line = {"position": position, "vat_rate_bp": vat_rate_bp, **line}
    return {key: utc_text(value) if isinstance(value, datetime) else value for key, value in line.items()}
