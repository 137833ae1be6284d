"""Invoices of postpaid subscriptions, and the gapless per-EMP numbering they are issued with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from domain.energy import kwh
from domain.errors import InvalidPeriod, OverLimit, Unprocessable
from domain.money import check_amount, prorate, split_vat
from domain.periods import Period, nominal_days, overlap_days

INVOICE_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/invoices")


INVOICES = "invoice"
CREDIT_NOTES = "credit_note"


class InvoiceNumbering(Aggregate):
    """Numbers are assigned only at issue, in the same transaction: no gaps, no repeats. One
    series per EMP and kind of document (invoices; credit notes), each its own aggregate, so a
    race for the next number fails the loser's save and is tried again."""

    TOPIC = "chargeledger:InvoiceNumbering"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:InvoiceNumbering.Event"

    class Opened(Aggregate.Created):
        TOPIC = "chargeledger:InvoiceNumbering.Opened"
        emp_id: UUID
        series: str = INVOICES

    class NumberAssigned(Event):
        TOPIC = "chargeledger:InvoiceNumbering.NumberAssigned"
        sequence: int
        invoice_id: UUID  # the document numbered (a credit note's id in that series)

        def apply(self, aggregate: Any) -> None:
            aggregate.last_sequence = self.sequence

    @staticmethod
    def create_id(emp_id: UUID, series: str = INVOICES) -> UUID:
        if series == INVOICES:
            return uuid5(INVOICE_NAMESPACE, f"numbering:{emp_id}")
        return uuid5(INVOICE_NAMESPACE, f"numbering:{series}:{emp_id}")

    @event(Opened)
    def __init__(self, emp_id: UUID, series: str = INVOICES) -> None:
        self.emp_id = emp_id
        self.series = series
        self.last_sequence = 0

    def assign(self, invoice_id: UUID) -> int:
        sequence = self.last_sequence + 1
        self.trigger_event(self.NumberAssigned, sequence=sequence, invoice_id=invoice_id)
        return sequence


def invoice_number(sequence: int) -> str:
    return f"INV-{sequence:06d}"


def credit_note_number(sequence: int) -> str:
    return f"CN-{sequence:06d}"


def adjustment_lines(adjustments: dict[str, dict[str, Any]], period_end: datetime) -> list[dict[str, Any]]:
    """A postpaid customer's adjustments not invoiced yet, recorded before the period's end, with
    the opposite sign: +400 in the customer's favour is a line of -400."""
    due = sorted(
        ((key, a) for key, a in adjustments.items() if a["occurred_at"] < period_end),
        key=lambda item: (item[1]["occurred_at"], item[0]),
    )
    return [
        {
            "kind": "adjustment",
            "description": f"Adjustment: {a['reason']}",
            "reference": key,
            "amount_minor": -a["amount_minor"],
        }
        for key, a in due
    ]


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
        PERSONAL = ("buyer",)  # sealed with the key of the customer named in PERSONAL_SUBJECT
        PERSONAL_SUBJECT = "customer_id"
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
        # Since invoice documents: who sold and who bought as at issue, when it is due, and
        # whether it is mailed (the intent the mail outbox acts on).
        seller: dict[str, Any] | None = None
        buyer: dict[str, Any] | None = None
        due_at: datetime | None = None
        delivery: str = "none"

    class PaymentRecorded(Event):
        """The EMP collected (part of) what the invoice asks; the postpaid balance does not move."""

        TOPIC = "chargeledger:Invoice.PaymentRecorded"
        payment_id: UUID
        amount_minor: int
        paid_at: datetime
        reference: str
        occurred_at: datetime
        caused_by: str

        def apply(self, aggregate: Any) -> None:
            aggregate.amount_paid_minor += self.amount_minor

    class Credited(Event):
        """A credit note took back (part of) the invoice: it asks that much less."""

        TOPIC = "chargeledger:Invoice.Credited"
        credit_note_id: UUID
        lines: list[dict[str, Any]]  # {"line": position, "amount_minor"}
        total_minor: int
        occurred_at: datetime
        caused_by: str

        def apply(self, aggregate: Any) -> None:
            aggregate.credited_minor += self.total_minor
            for line in self.lines:
                key = str(line["line"])
                aggregate.credited_lines[key] = aggregate.credited_lines.get(key, 0) + line["amount_minor"]

    class Paid(Event):
        """Payments and credit notes now cover the total."""

        TOPIC = "chargeledger:Invoice.Paid"
        occurred_at: datetime
        caused_by: str
        # What the `invoice.paid` webhook message tells, as it stood when it was covered.
        number: str = ""
        total_minor: int = 0
        amount_paid_minor: int = 0
        credited_minor: int = 0

        def apply(self, aggregate: Any) -> None:
            aggregate.paid = True

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
        seller: dict[str, Any] | None = None,
        buyer: dict[str, Any] | None = None,
        due_at: datetime | None = None,
        delivery: str = "none",
    ) -> Invoice:
        priced = []
        for position, line in enumerate(lines, start=1):
            net, vat = split_vat(line["amount_minor"], vat_rate_bp)
            priced.append(
                {
                    **line,
                    "position": position,
                    "net_minor": net,
                    "vat_minor": vat,
                    "vat_rate_bp": vat_rate_bp,
                    "gross_minor": line["amount_minor"],
                }
            )
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
            seller=seller,
            buyer=buyer,
            due_at=due_at,
            delivery=delivery,
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
        seller: dict[str, Any] | None = None,
        buyer: dict[str, Any] | None = None,
        due_at: datetime | None = None,
        delivery: str = "none",
    ) -> None:
        self.emp_id = emp_id
        self.customer_id = customer_id
        self.subscription_id = subscription_id
        self.period_index = period_index
        self.sequence = sequence
        self.number = number
        self.currency = currency
        self.vat_rate_bp = vat_rate_bp
        self.lines = lines
        self.total_minor = total_minor
        self.issued_at = occurred_at
        self.seller = seller
        self.buyer = buyer
        self.amount_paid_minor = 0
        self.credited_minor = 0
        self.credited_lines: dict[str, int] = {}
        self.paid = False

    @property
    def open_minor(self) -> int:
        """What the invoice still asks."""
        return max(self.total_minor - self.amount_paid_minor - self.credited_minor, 0)

    def record_payment(
        self,
        payment_id: UUID,
        *,
        amount_minor: int,
        paid_at: datetime,
        reference: str,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        check_amount(amount_minor, "amount_minor")
        if paid_at > occurred_at:
            raise InvalidPeriod("paid_at must not be after now", field="paid_at")
        if amount_minor > self.open_minor:
            raise OverLimit(
                f"amount_minor: {amount_minor} is more than the {self.open_minor} left open on {self.number}",
                field="amount_minor",
            )
        self.trigger_event(
            self.PaymentRecorded,
            payment_id=payment_id,
            amount_minor=amount_minor,
            paid_at=paid_at,
            reference=reference,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
        self._paid_if_covered(occurred_at, caused_by)

    def credit(
        self,
        credit_note_id: UUID,
        requested: list[dict[str, int]] | None,
        *,
        occurred_at: datetime,
        caused_by: str,
    ) -> list[dict[str, Any]]:
        """Take back the requested lines (`None`: all that is left uncredited); never more than
        what is left of a line or of the invoice. Returns the credited lines, priced."""
        by_position = {line["position"]: line for line in self.positioned_lines()}
        left = {
            p: line["amount_minor"] - self.credited_lines.get(str(p), 0) for p, line in by_position.items()
        }
        if requested is None:
            requested = _all_that_is_left(left, self.total_minor - self.credited_minor)
            if not requested:
                raise OverLimit(f"nothing is left to credit on {self.number}", field="full")
        seen: set[int] = set()
        for index, item in enumerate(requested):
            position, amount = item["line"], item["amount_minor"]
            field = f"lines[{index}]"
            if position not in by_position:
                raise Unprocessable(
                    f"{field}.line: {self.number} has no line {position}", field=f"{field}.line"
                )
            if position in seen:
                raise Unprocessable(f"{field}.line: line {position} is named twice", field=f"{field}.line")
            seen.add(position)
            check_amount(amount, f"{field}.amount_minor")
            if amount > left[position]:
                raise OverLimit(
                    f"{field}.amount_minor: {amount} is more than the {max(left[position], 0)} left"
                    f" uncredited of line {position}",
                    field=f"{field}.amount_minor",
                )
        total = sum(item["amount_minor"] for item in requested)
        uncredited = self.total_minor - self.credited_minor
        if total > uncredited:
            raise OverLimit(
                f"lines: {total} is more than the {max(uncredited, 0)} left uncredited of {self.number}",
                field="lines",
            )
        self.trigger_event(
            self.Credited,
            credit_note_id=credit_note_id,
            lines=[{"line": item["line"], "amount_minor": item["amount_minor"]} for item in requested],
            total_minor=total,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
        self._paid_if_covered(occurred_at, caused_by)
        priced = []
        for item in requested:
            line = by_position[item["line"]]
            net, vat = split_vat(item["amount_minor"], self.vat_rate_bp)
            priced.append(
                {
                    "line": item["line"],
                    "description": line["description"],
                    "amount_minor": item["amount_minor"],
                    "net_minor": net,
                    "vat_minor": vat,
                    "vat_rate_bp": self.vat_rate_bp,
                }
            )
        return priced

    def positioned_lines(self) -> list[dict[str, Any]]:
        """The lines with their positions (invoices issued before positions get them in order)."""
        return [{**line, "position": line.get("position", index)} for index, line in enumerate(self.lines, 1)]

    def _paid_if_covered(self, occurred_at: datetime, caused_by: str) -> None:
        if not self.paid and self.amount_paid_minor + self.credited_minor >= self.total_minor:
            self.trigger_event(
                self.Paid,
                occurred_at=occurred_at,
                caused_by=caused_by,
                number=self.number,
                total_minor=self.total_minor,
                amount_paid_minor=self.amount_paid_minor,
                credited_minor=self.credited_minor,
            )


def _all_that_is_left(left: dict[int, int], uncredited: int) -> list[dict[str, int]]:
    """A full credit: each line's rest in order, up to what is left of the invoice (whose
    negative lines, an adjustment's, make it less than the lines' sum)."""
    requested = []
    for position, amount in left.items():
        take = min(amount, uncredited)
        if take > 0:
            requested.append({"line": position, "amount_minor": take})
            uncredited -= take
    return requested


def due_at_of(issued_at: datetime, payment_terms_days: int, zone: ZoneInfo) -> datetime:
    """Due by the end of the local day `payment_terms_days` after the issue date."""
    due_date = issued_at.astimezone(zone).date() + timedelta(days=payment_terms_days + 1)
    return datetime.combine(due_date, time(), zone).astimezone(UTC)
