"""Credit notes: a numbered document of its own that takes back (part of) an invoice. The
invoice is never edited; the credit note reduces what it asks and credits the customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ValidationFailed

CREDIT_NOTE_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/credit-notes")


class CreditNote(Aggregate):
    TOPIC = "chargeledger:CreditNote"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:CreditNote.Event"

    class Issued(Aggregate.Created):
        TOPIC = "chargeledger:CreditNote.Issued"
        PERSONAL = ("buyer",)  # sealed with the key of the customer named in PERSONAL_SUBJECT
        PERSONAL_SUBJECT = "customer_id"
        emp_id: UUID
        customer_id: UUID
        invoice_id: UUID
        invoice_number: str
        invoice_issued_at: datetime
        sequence: int
        number: str
        currency: str
        reason: str
        lines: list[
            dict[str, Any]
        ]  # {"line", "description", "amount_minor", "net_minor", "vat_minor", "vat_rate_bp"}
        net_minor: int
        vat_minor: int
        total_minor: int
        seller: dict[str, Any] | None
        buyer: dict[str, Any] | None
        delivery: str
        occurred_at: datetime
        caused_by: str

    @staticmethod
    def create_id(emp_id: UUID, sequence: int) -> UUID:
        # One credit note per number of the EMP's series: a lost race collides here too.
        return uuid5(CREDIT_NOTE_NAMESPACE, f"{emp_id}:{sequence}")

    @classmethod
    def issue(cls, *, reason: str, lines: list[dict[str, Any]], **fields: Any) -> CreditNote:
        if not reason.strip():
            raise ValidationFailed("reason must not be empty", field="reason")
        return cls(
            reason=reason.strip(),
            lines=lines,
            net_minor=sum(line["net_minor"] for line in lines),
            vat_minor=sum(line["vat_minor"] for line in lines),
            total_minor=sum(line["amount_minor"] for line in lines),
            **fields,
        )

    @event(Issued)
    def __init__(
        self,
        emp_id: UUID,
        customer_id: UUID,
        invoice_id: UUID,
        invoice_number: str,
        invoice_issued_at: datetime,
        sequence: int,
        number: str,
        currency: str,
        reason: str,
        lines: list[dict[str, Any]],
        net_minor: int,
        vat_minor: int,
        total_minor: int,
        seller: dict[str, Any] | None,
        buyer: dict[str, Any] | None,
        delivery: str,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.emp_id = emp_id
        self.customer_id = customer_id
        self.invoice_id = invoice_id
        self.number = number
        self.total_minor = total_minor
