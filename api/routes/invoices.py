"""Invoices of postpaid subscriptions, issued by the Invoice Production job."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from api.auth import readers
from api.context import ApiContext
from api.pagination import Limit, decode_cursor, encode_cursor, position
from api.problems import problems
from api.schemas import InvoiceOut, InvoicePage
from domain.errors import NotFound
from projections import queries


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
    next_cursor = encode_cursor(str(rows[limit - 1]["sequence"])) if len(rows) > limit else None
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
    row = queries.invoice(ctx.pool, request.user.emp_id, invoice_id)
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return InvoiceOut.from_row(row)


ROUTES = [list_invoices, get_invoice]
