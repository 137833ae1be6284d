"""Invoices of postpaid subscriptions (issued by the Invoice Production job), payments recorded
against them, credit notes, and their documents: PDF and UBL (Peppol BIS Billing 3.0)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import emp_only, readers, support_or_emp
from api.context import ApiContext
from api.pagination import Limit, cursor_after, decode_cursor, position
from api.problems import problems
from api.schemas import (
    CreditNoteIn,
    CreditNoteOut,
    CreditNotePage,
    IdempotencyKey,
    InvoiceOut,
    InvoicePage,
    InvoicePaymentIn,
    InvoicePaymentOut,
)
from commands.messages import IssueCreditNote, RecordInvoicePayment
from domain.errors import NotFound
from projections import queries
from projections.documents.model import Document, credit_note_document, invoice_document
from projections.documents.pdf import pdf_document
from projections.documents.ubl import ubl_document

# Payments and credit notes change the invoices read model: the answer and the next read wait for it.
READS = ("subscriptions",)
PDF = "application/pdf"
XML = "application/xml"


def _document_responses(media_type: str) -> dict[int, ResponseSpec]:
    return {
        200: ResponseSpec(data_container=bytes, media_type=media_type, description="the document"),
        **(problems(404, 422) if media_type == XML else problems(404)),
    }


@get("/v1/invoices", guards=[readers], sync_to_thread=True, tags=["invoices"], responses=problems())
def list_invoices(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    customer_id: FromQuery[UUID | None] = None,
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> InvoicePage:
    after = decode_cursor(cursor, position)[0] if cursor else 0
    rows = queries.invoices_page(
        ctx.pool, request.user.emp_id, customer_id=customer_id, limit=limit + 1, after=after
    )
    items = [InvoiceOut.from_row(row) for row in rows[:limit]]
    next_cursor = cursor_after(rows, limit, "sequence")
    return InvoicePage(items=items, next_cursor=next_cursor)


@get(
    "/v1/invoices/{invoice_id:uuid}",
    guards=[readers],
    sync_to_thread=True,
    tags=["invoices"],
    responses=problems(404),
)
def get_invoice(
    invoice_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> InvoiceOut:
    """The invoice as JSON; with `Accept: application/pdf`, its PDF (as `/pdf`)."""
    row = queries.invoice(ctx.pool, request.user.emp_id, invoice_id)
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    if _wants_pdf(request):
        return _pdf(_invoice(ctx, request, invoice_id))  # type: ignore[return-value]
    return InvoiceOut.from_row(row)


@get(
    "/v1/invoices/{invoice_id:uuid}/pdf",
    guards=[readers],
    sync_to_thread=True,
    tags=["invoices"],
    media_type=PDF,
    responses=_document_responses(PDF),
)
def get_invoice_pdf(
    invoice_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    return _pdf(_invoice(ctx, request, invoice_id))


@get(
    "/v1/invoices/{invoice_id:uuid}/ubl",
    guards=[readers],
    sync_to_thread=True,
    tags=["invoices"],
    media_type=XML,
    responses=_document_responses(XML),
)
def get_invoice_ubl(
    invoice_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """A UBL 2.1 invoice (Peppol BIS Billing 3.0); 422 naming the seller or buyer details missing."""
    return Response(ubl_document(_invoice(ctx, request, invoice_id)), media_type=XML)


@post(
    "/v1/invoices/{invoice_id:uuid}/payments",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=201,
    tags=["invoices"],
    responses=problems(404, 409, 413, 422),
)
def record_invoice_payment(
    invoice_id: FromPath[UUID],
    data: JSONBody[InvoicePaymentIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> InvoicePaymentOut:
    """A payment the EMP collected, recorded against the invoice (more than is open: 422
    `over-limit`; `paid_at` after now: 422 `invalid-period`). The postpaid balance does not move."""
    principal = request.user
    outcome = ctx.execute(
        RecordInvoicePayment(
            principal.emp_id, invoice_id, data.amount_minor, data.paid_at, data.reference, principal.actor
        ),
        reads=READS,
    )
    return InvoicePaymentOut(
        id=str(outcome.id),
        invoice_id=str(invoice_id),
        amount_minor=data.amount_minor,
        paid_at=data.paid_at,
        reference=data.reference,
    )


@post(
    "/v1/invoices/{invoice_id:uuid}/credit-notes",
    guards=[support_or_emp],
    sync_to_thread=True,
    status_code=201,
    tags=["invoices"],
    responses=problems(404, 409, 413, 422),
)
def issue_credit_note(
    invoice_id: FromPath[UUID],
    data: JSONBody[CreditNoteIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> CreditNoteOut:
    """A credit note in the EMP's own series: never more than what is left uncredited of the
    invoice or of a line (422 `over-limit`); it credits the customer's balance."""
    principal = request.user
    lines = (
        None if data.lines is None else [{"line": i.line, "amount_minor": i.amount_minor} for i in data.lines]
    )
    outcome = ctx.execute(
        IssueCreditNote(
            principal.emp_id, invoice_id, data.reason, lines, principal.actor, full=bool(data.full)
        ),
        reads=READS,
    )
    row = queries.credit_note(ctx.pool, principal.emp_id, outcome.id)
    if row is None:
        raise NotFound(f"credit note {outcome.id} not found")
    return CreditNoteOut.from_row(row)


@get("/v1/credit-notes", guards=[readers], sync_to_thread=True, tags=["invoices"], responses=problems())
def list_credit_notes(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    customer_id: FromQuery[UUID | None] = None,
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> CreditNotePage:
    after = decode_cursor(cursor, position)[0] if cursor else 0
    rows = queries.credit_notes_page(
        ctx.pool, request.user.emp_id, customer_id=customer_id, limit=limit + 1, after=after
    )
    items = [CreditNoteOut.from_row(row) for row in rows[:limit]]
    next_cursor = cursor_after(rows, limit, "sequence")
    return CreditNotePage(items=items, next_cursor=next_cursor)


@get(
    "/v1/credit-notes/{credit_note_id:uuid}",
    guards=[readers],
    sync_to_thread=True,
    tags=["invoices"],
    responses=problems(404),
)
def get_credit_note(
    credit_note_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> CreditNoteOut:
    row = queries.credit_note(ctx.pool, request.user.emp_id, credit_note_id)
    if row is None:
        raise NotFound(f"credit note {credit_note_id} not found")
    if _wants_pdf(request):
        return _pdf(_credit_note(ctx, request, credit_note_id))  # type: ignore[return-value]
    return CreditNoteOut.from_row(row)


@get(
    "/v1/credit-notes/{credit_note_id:uuid}/pdf",
    guards=[readers],
    sync_to_thread=True,
    tags=["invoices"],
    media_type=PDF,
    responses=_document_responses(PDF),
)
def get_credit_note_pdf(
    credit_note_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    return _pdf(_credit_note(ctx, request, credit_note_id))


@get(
    "/v1/credit-notes/{credit_note_id:uuid}/ubl",
    guards=[readers],
    sync_to_thread=True,
    tags=["invoices"],
    media_type=XML,
    responses=_document_responses(XML),
)
def get_credit_note_ubl(
    credit_note_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """A Peppol BIS 3 CreditNote (type 381) referencing the invoice it credits."""
    return Response(ubl_document(_credit_note(ctx, request, credit_note_id)), media_type=XML)


def _wants_pdf(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return PDF in accept and "application/json" not in accept


def _pdf(doc: Document) -> Response[bytes]:
    return Response(
        pdf_document(doc),
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="{doc.filename}"'},
    )


def _invoice(ctx: ApiContext, request: Request[Any, Any, Any], invoice_id: UUID) -> Document:
    doc = invoice_document(ctx.pool, invoice_id, request.user.emp_id)
    if doc is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return doc


def _credit_note(ctx: ApiContext, request: Request[Any, Any, Any], credit_note_id: UUID) -> Document:
    doc = credit_note_document(ctx.pool, credit_note_id, request.user.emp_id)
    if doc is None:
        raise NotFound(f"credit note {credit_note_id} not found")
    return doc


ROUTES = [
    list_invoices,
    get_invoice,
    get_invoice_pdf,
    get_invoice_ubl,
    record_invoice_payment,
    issue_credit_note,
    list_credit_notes,
    get_credit_note,
    get_credit_note_pdf,
    get_credit_note_ubl,
]
