"""Invoices of postpaid subscriptions, and the gapless per-EMP numbering they are issued with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from domain.energy import kwh
from domain.money import prorate, split_vat
from domain.periods import Period, nominal_days, overlap_days

INVOICE_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/invoices")


class InvoiceNumbering(Aggregate):
    """Numbers are assigned only at issue, in the same transaction: no gaps, no repeats."""

    TOPIC = "chargeledger:InvoiceNumbering"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:InvoiceNumbering.Event"

    class Opened(Aggregate.Created):
        TOPIC = "chargeledger:InvoiceNumbering.Opened"
        emp_id: UUID

    class NumberAssigned(Event):
        TOPIC = "chargeledger:InvoiceNumbering.NumberAssigned"
        sequence: int
        invoice_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.last_sequence = self.sequence

    @staticmethod
    def create_id(emp_id: UUID) -> UUID:
        return uuid5(INVOICE_NAMESPACE, f"numbering:{emp_id}")

    @event(Opened)
    def __init__(self, emp_id: UUID) -> None:
        self.emp_id = emp_id
        self.last_sequence = 0

    def assign(self, invoice_id: UUID) -> int:
        sequence = self.last_sequence + 1
        self.trigger_event(self.NumberAssigned, sequence=sequence, invoice_id=invoice_id)
        return sequence


def invoice_number(sequence: int) -> str:
    return f"INV-{sequence:06d}"


def package_lines(
    packages: list[dict[str, Any]], period: Period, billing_day: int, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Each recurring postpaid package for the local days it was active in the period,
    prorated by days against the month the period stands for, half-even to the minor unit."""
    lines = []
    of_days = nominal_days(period, billing_day, zone)
    for package in packages:
        if not (package["recurring"] and package["payment"] == "postpaid"):
            continue
        days = overlap_days(period, package["acquired_at"], package["cancelled_at"], zone)
        if days == 0:
            continue
        amount = package["price_minor"] if days >= of_days else prorate(package["price_minor"], days, of_days)
        lines.append(
            {
                "kind": "package",
                "description": f"{package['name']} ({package['code']}), {days} of {of_days} days",
                "reference": package["code"],
                "amount_minor": amount,
                "days": days,
            }
        )
    return lines


@dataclass(frozen=True)
class UninvoicedSession:
    """A postpaid customer's session that no invoice holds yet."""

    session_id: str
    ended_at: datetime
    energy_wh: int
    cost_minor: int


def session_lines(sessions: list[UninvoicedSession], period_end: datetime) -> list[dict[str, Any]]:
    """Each session not invoiced yet that ended before the period's end (a late one included)."""
    due = sorted((s for s in sessions if s.ended_at < period_end), key=lambda s: (s.ended_at, s.session_id))
    return [
        {
            "kind": "session",
            "description": f"Charging session {s.session_id}, {kwh(s.energy_wh)} kWh",
            "reference": s.session_id,
            "amount_minor": s.cost_minor,
            "ended_at": s.ended_at,
        }
        for s in due
    ]


class Invoice(Aggregate):
    TOPIC = "chargeledger:Invoice"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:Invoice.Event"

    class Issued(Aggregate.Created):
        TOPIC = "chargeledger:Invoice.Issued"
        emp_id: UUID
        customer_id: UUID
        subscription_id: UUID
        period_index: int
        period_start: datetime
        period_end: datetime
        currency: str
        sequence: int
        number: str
        vat_rate_bp: int
        lines: list[dict[str, Any]]
        net_minor: int
        vat_minor: int
        total_minor: int
        occurred_at: datetime
        caused_by: str

    @staticmethod
    def create_id(subscription_id: UUID, period_index: int) -> UUID:
        # One invoice per subscription and period: a second production run collides here.
        return uuid5(INVOICE_NAMESPACE, f"{subscription_id}:{period_index}")

    @classmethod
    def issue(
        cls,
        *,
        emp_id: UUID,
        customer_id: UUID,
        subscription_id: UUID,
        period: Period,
        currency: str,
        sequence: int,
        vat_rate_bp: int,
        lines: list[dict[str, Any]],
        occurred_at: datetime,
        caused_by: str,
    ) -> Invoice:
        priced = []
        for line in lines:
            net, vat = split_vat(line["amount_minor"], vat_rate_bp)
            priced.append({**line, "net_minor": net, "vat_minor": vat, "gross_minor": line["amount_minor"]})
        return cls(
            emp_id=emp_id,
            customer_id=customer_id,
            subscription_id=subscription_id,
            period_index=period.index,
            period_start=period.start,
            period_end=period.end,
            currency=currency,
            sequence=sequence,
            number=invoice_number(sequence),
            vat_rate_bp=vat_rate_bp,
            lines=priced,
            net_minor=sum(line["net_minor"] for line in priced),
            vat_minor=sum(line["vat_minor"] for line in priced),
            total_minor=sum(line["amount_minor"] for line in priced),
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    @event(Issued)
    def __init__(
        self,
        emp_id: UUID,
        customer_id: UUID,
        subscription_id: UUID,
        period_index: int,
        period_start: datetime,
        period_end: datetime,
        currency: str,
        sequence: int,
        number: str,
        vat_rate_bp: int,
        lines: list[dict[str, Any]],
        net_minor: int,
        vat_minor: int,
        total_minor: int,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.emp_id = emp_id
        self.customer_id = customer_id
        self.subscription_id = subscription_id
        self.period_index = period_index
        self.sequence = sequence
        self.number = number
        self.lines = lines
        self.total_minor = total_minor
