"""One document's content, read from the invoices and credit-notes read models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"


@dataclass(frozen=True)
class Document:
    kind: str  # INVOICE or CREDIT_NOTE
    id: UUID
    number: str
    currency: str
    issued_at: datetime
    seller: dict[str, Any]
    buyer: dict[str, Any]
    lines: list[dict[str, Any]]  # position, description, amount_minor, net_minor, vat_minor, vat_rate_bp
    net_minor: int
    vat_minor: int
    total_minor: int
    vat_rate_bp: int
    period_start: datetime | None = None
    period_end: datetime | None = None
    due_at: datetime | None = None
    # A credit note: the invoice it credits, and why.
    invoice_number: str | None = None
    invoice_issued_at: datetime | None = None
    reason: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


def invoice_document(pool: ConnectionPool, invoice_id: UUID, emp_id: UUID | None = None) -> Document | None:
    row = _row(pool, "SELECT * FROM invoices WHERE id = %s", invoice_id, emp_id)
    if row is None:
        return None
    return Document(
        kind=INVOICE,
        id=row["id"],
        number=row["number"],
        currency=row["currency"].strip(),
        issued_at=row["issued_at"],
        seller=row["seller"] or {},
        buyer=row["buyer"] or {"customer_id": str(row["customer_id"])},
        lines=[
            {"position": line.get("position", index), "vat_rate_bp": row["vat_rate_bp"], **line}
            for index, line in enumerate(row["lines"], 1)
        ],
        net_minor=row["net_minor"],
        vat_minor=row["vat_minor"],
        total_minor=row["total_minor"],
        vat_rate_bp=row["vat_rate_bp"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        due_at=row["due_at"],
    )


def credit_note_document(
    pool: ConnectionPool, credit_note_id: UUID, emp_id: UUID | None = None
) -> Document | None:
    row = _row(pool, "SELECT * FROM credit_notes WHERE id = %s", credit_note_id, emp_id)
    if row is None:
        return None
    lines = [{**line, "position": index} for index, line in enumerate(row["lines"], 1)]
    return Document(
        kind=CREDIT_NOTE,
        id=row["id"],
        number=row["number"],
        currency=row["currency"].strip(),
        issued_at=row["issued_at"],
        seller=row["seller"] or {},
        buyer=row["buyer"] or {"customer_id": str(row["customer_id"])},
        lines=lines,
        net_minor=row["net_minor"],
        vat_minor=row["vat_minor"],
        total_minor=row["total_minor"],
        vat_rate_bp=lines[0]["vat_rate_bp"] if lines else 0,
        invoice_number=row["invoice_number"],
        invoice_issued_at=row["invoice_issued_at"],
        reason=row["reason"],
    )


def document(pool: ConnectionPool, kind: str, document_id: UUID) -> Document | None:
    load = invoice_document if kind == INVOICE else credit_note_document
    return load(pool, document_id)


def _row(pool: ConnectionPool, sql: str, document_id: UUID, emp_id: UUID | None) -> dict[str, Any] | None:
    if emp_id is not None:
        sql += " AND emp_id = %s"
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, (document_id,) if emp_id is None else (document_id, emp_id))
        return cur.fetchone()
