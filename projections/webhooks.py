"""Webhook messages, an asynchronous read model: one message per business event of the listed
types, its body (`{"type", "timestamp", "data"}`) kept exactly as every endpoint receives it,
and a delivery of it for each of the EMP's endpoints that subscribe to its type.

A message's id comes from its event, so a rebuild writes no message and no delivery twice, and
an endpoint gets only the messages of events recorded after it was created."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, get_args
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from psycopg import Cursor

from domain.aggregates import CreditNote, Customer, Invoice, ReceivedCdr, Subscription
from domain.instants import utc_text
from projections.pipeline import AsyncProjection, Logged

MESSAGE_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/webhook-messages")

# Every type an endpoint may subscribe to (../shared/api-contract.md), each from the day its
# feature exists: those without a `MESSAGES` entry below are not sent yet.
EventType = Literal[
    "customer.created",
    "session.recorded",
    "session.credited",
    "top_up.succeeded",
    "top_up.failed",
    "payment.succeeded",
    "payment.failed",
    "prepayment.debited",
    "prepayment.credited",
    "adjustment.recorded",
    "subscription.created",
    "subscription.ended",
    "package.acquired",
    "package.cancelled",
    "invoice.issued",
    "invoice.paid",
    "credit_note.issued",
    "dunning.step",
    "cdr.unmatched",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
TOP_UP_PURPOSES = ("manual_top_up", "automatic_top_up")
Owner = tuple[UUID, UUID | None]  # (emp_id, customer_id)


def instant(value: datetime | None) -> str | None:
    return None if value is None else utc_text(value)


def _customer_created(e: Customer.Registered) -> tuple[str, dict[str, Any]]:
    return "customer.created", {"account_type": e.account_type, "external_ref": e.external_ref}


def _session_recorded(e: Customer.SessionCharged) -> tuple[str, dict[str, Any]]:
    return "session.recorded", {
        "session_id": e.session_id,
        "started_at": instant(e.started_at),
        "ended_at": instant(e.ended_at),
        "energy_wh": e.energy_wh,
        "cost_minor": -e.amount_minor,
        "location": e.location,
        "balance_after_minor": e.balance_after_minor,
    }


def _session_credited(e: Customer.SessionCredited) -> tuple[str, dict[str, Any]]:
    return "session.credited", {
        "session_id": e.session_id,
        "credited_session_id": e.credited_session_id,
        "started_at": instant(e.started_at),
        "ended_at": instant(e.ended_at),
        "energy_wh": e.energy_wh,
        "credit_minor": e.amount_minor,
        "location": e.location,
        "balance_after_minor": e.balance_after_minor,
    }


def _cdr_unmatched(e: ReceivedCdr.Received) -> tuple[str, dict[str, Any]] | None:
    if e.customer_id is not None:
        return None  # a session or a credit: its own message says so
    return "cdr.unmatched", {
        "cdr_id": str(e.originator_id),
        "session_id": e.session_id,
        "token_uid": e.token_uid,
        "started_at": instant(e.started_at),
        "ended_at": instant(e.ended_at),
        "energy_wh": e.energy_wh,
        "cost_minor": e.cost_minor,
        "currency": e.currency,
        "location": e.location,
    }


def _top_up(e: Customer.TopUpApplied) -> tuple[str, dict[str, Any]]:
    return "top_up.succeeded", {
        "payment_id": str(e.payment_id),
        "source": e.source,
        "amount_minor": e.amount_minor,
        "balance_after_minor": e.balance_after_minor,
    }


def _payment_taken(e: Customer.PaymentTaken) -> tuple[str, dict[str, Any]]:
    return "payment.succeeded", {
        "payment_id": str(e.payment_id),
        "debit_id": None if e.debit_id is None else str(e.debit_id),
        "amount_minor": e.amount_minor,
        "balance_after_minor": e.balance_after_minor,
    }


def _payment_failed(e: Customer.PaymentFailed) -> tuple[str, dict[str, Any]]:
    kind = "top_up.failed" if e.purpose in TOP_UP_PURPOSES else "payment.failed"
    return kind, {
        "payment_id": str(e.payment_id),
        "purpose": e.purpose,
        "amount_minor": e.attempted_minor,
        "decline_code": e.decline_code,
    }


def _prepayment_debited(e: Customer.PrepaymentDebited) -> tuple[str, dict[str, Any]]:
    return "prepayment.debited", {
        "debit_id": str(e.debit_id),
        "subscription_id": str(e.subscription_id),
        "package_id": str(e.package_instance_id),
        "package_code": e.package_code,
        "amount_minor": -e.amount_minor,
        "period_start": instant(e.period_start),
        "period_end": instant(e.period_end),
        "settled_by": e.settled_by,
        "balance_after_minor": e.balance_after_minor,
    }


def _unused_days_credited(e: Customer.UnusedDaysCredited) -> tuple[str, dict[str, Any]]:
    return "prepayment.credited", {
        "credit_id": str(e.credit_id),
        "subscription_id": str(e.subscription_id),
        "package_id": str(e.package_instance_id),
        "package_code": e.package_code,
        "amount_minor": e.amount_minor,
        "period_start": instant(e.period_start),
        "period_end": instant(e.period_end),
        "balance_after_minor": e.balance_after_minor,
    }


def _adjustment(e: Customer.AdjustmentRecorded) -> tuple[str, dict[str, Any]]:
    return "adjustment.recorded", {
        "adjustment_id": str(e.adjustment_id),
        "amount_minor": e.amount_minor,
        "reason": e.reason,
        "recorded_by": e.caused_by,
        "balance_after_minor": e.balance_after_minor,
    }


def _subscription_created(e: Subscription.Started) -> tuple[str, dict[str, Any]]:
    return "subscription.created", {
        "subscription_id": str(e.originator_id),
        "tariff": e.tariff,
        "billing_day": e.billing_day,
        "started_at": instant(e.occurred_at),
    }


def _subscription_ended(e: Subscription.Ended) -> tuple[str, dict[str, Any]]:
    return "subscription.ended", {"subscription_id": str(e.originator_id), "ended_at": instant(e.ended_at)}


def _package_acquired(e: Subscription.PackageAcquired) -> tuple[str, dict[str, Any]]:
    return "package.acquired", {
        "subscription_id": str(e.originator_id),
        "package_id": str(e.package_instance_id),
        "code": e.code,
        "kind": e.kind,
        "recurring": e.recurring,
        "price_minor": e.price_minor,
        "acquired_at": instant(e.occurred_at),
    }


def _package_cancelled(e: Subscription.PackageCancelled) -> tuple[str, dict[str, Any]]:
    return "package.cancelled", {
        "subscription_id": str(e.originator_id),
        "package_id": str(e.package_instance_id),
        "cancelled_at": instant(e.occurred_at),
    }


def _invoice_issued(e: Invoice.Issued) -> tuple[str, dict[str, Any]]:
    return "invoice.issued", {
        "invoice_id": str(e.originator_id),
        "number": e.number,
        "subscription_id": str(e.subscription_id),
        "period_start": instant(e.period_start),
        "period_end": instant(e.period_end),
        "total_minor": e.total_minor,
        "currency": e.currency,
        "issued_at": instant(e.occurred_at),
    }


def _invoice_paid(e: Invoice.Paid) -> tuple[str, dict[str, Any]]:
    return "invoice.paid", {
        "invoice_id": str(e.originator_id),
        "number": e.number,
        "total_minor": e.total_minor,
        "amount_paid_minor": e.amount_paid_minor,
        "credited_minor": e.credited_minor,
        "paid_at": instant(e.occurred_at),
    }


def _credit_note_issued(e: CreditNote.Issued) -> tuple[str, dict[str, Any]]:
    return "credit_note.issued", {
        "credit_note_id": str(e.originator_id),
        "number": e.number,
        "invoice_id": str(e.invoice_id),
        "invoice_number": e.invoice_number,
        "reason": e.reason,
        "total_minor": e.total_minor,
        "currency": e.currency,
        "issued_at": instant(e.occurred_at),
    }


def _dunning_step(e: Customer.DunningStepTaken) -> tuple[str, dict[str, Any]]:
    return "dunning.step", {
        "step": e.step,
        "day": e.day,
        "since": instant(e.since),
        "overdue_minor": e.overdue_minor,
        "retried": e.retried,
        "blocked": e.blocked,
    }


MESSAGES: dict[type, Callable[[Any], tuple[str, dict[str, Any]] | None]] = {
    Customer.Registered: _customer_created,
    Customer.SessionCharged: _session_recorded,
    Customer.SessionCredited: _session_credited,
    ReceivedCdr.Received: _cdr_unmatched,
    Customer.TopUpApplied: _top_up,
    Customer.PaymentTaken: _payment_taken,
    Customer.PaymentFailed: _payment_failed,
    Customer.PrepaymentDebited: _prepayment_debited,
    Customer.UnusedDaysCredited: _unused_days_credited,
    Customer.AdjustmentRecorded: _adjustment,
    Subscription.Started: _subscription_created,
    Subscription.Ended: _subscription_ended,
    Subscription.PackageAcquired: _package_acquired,
    Subscription.PackageCancelled: _package_cancelled,
    Invoice.Issued: _invoice_issued,
    Invoice.Paid: _invoice_paid,
    CreditNote.Issued: _credit_note_issued,
    Customer.DunningStepTaken: _dunning_step,
}


def message_id(originator_id: UUID, version: int) -> UUID:
    return uuid5(MESSAGE_NAMESPACE, f"{originator_id}:{version}")


class WebhooksProjection(AsyncProjection):
    name = "webhooks"
    topics = tuple(kind.TOPIC for kind in MESSAGES)  # type: ignore[attr-defined]
    tables = ()  # a rebuild keeps the messages and their deliveries: nothing is sent twice

    def __init__(self, first_event: Callable[[UUID], Any]) -> None:
        """`first_event(stream)`: the stream's first event, which names its EMP and customer."""
        self.first_event = first_event
        self._owners: OrderedDict[UUID, Owner] = OrderedDict()

    def apply(self, cursor: Cursor[Any], events: Sequence[Logged]) -> None:
        rows = [row for row in (self._message(logged) for logged in events) if row is not None]
        if not rows:
            return
        ids, emps, positions, kinds, times, bodies = (list(column) for column in zip(*rows, strict=True))
        # Each new message (one written before, by a rebuild's first pass, is left as it is)
        # gets a delivery for every endpoint of its EMP that takes its type and existed then.
        cursor.execute(
            "WITH new AS (INSERT INTO webhook_messages (id, emp_id, position, type, timestamp, body)"
            " SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::bigint[], %b::text[], %b::timestamptz[],"
            " %b::text[]) ON CONFLICT (id) DO NOTHING RETURNING id, emp_id, type, timestamp)"
            " INSERT INTO webhook_deliveries (message_id, endpoint_id, emp_id, next_attempt_at, created_at)"
            " SELECT new.id, e.id, new.emp_id, now(), now() FROM new"
            " JOIN webhook_endpoints e ON e.emp_id = new.emp_id AND e.enabled"
            " AND e.created_at <= new.timestamp AND (e.event_types IS NULL OR new.type = ANY(e.event_types))",
            (ids, emps, positions, kinds, times, bodies),
        )

    def _message(self, logged: Logged) -> tuple[Any, ...] | None:
        event = logged.event
        build = MESSAGES.get(type(event))
        if build is None:
            return None
        built = build(event)
        if built is None:
            return None
        kind, fields = built
        emp_id, customer_id = self._owner(event)
        data = {
            "emp_id": str(emp_id),
            "customer_id": None if customer_id is None else str(customer_id),
            **fields,
            "sequence": event.originator_version,
        }
        body = {"type": kind, "timestamp": instant(event.timestamp), "data": data}
        return (
            message_id(event.originator_id, event.originator_version),
            emp_id,
            logged.position,
            kind,
            event.timestamp,
            msgspec.json.encode(body).decode(),
        )

    def _owner(self, event: Any) -> Owner:
        """The EMP and the customer of an event's stream, from the stream's first event."""
        stream = event.originator_id
        owner = self._owners.get(stream)
        if owner is None:
            first = event if event.originator_version == 1 else self.first_event(stream)
            owner = (first.emp_id, stream if isinstance(first, Customer.Registered) else first.customer_id)
            self._owners[stream] = owner
            if len(self._owners) > 100_000:
                self._owners.popitem(last=False)
        return owner
