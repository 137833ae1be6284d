"""A server-rendered page for support staff: find a customer, see the balance over time, and
the explanation of the balance at any instant. Signed in with an EMP key kept in a cookie."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from api.context import ApiContext
from api.instants import parse_instant
from api.keys import Principal, authenticate
from api.support_chart import balance_chart
from domain.errors import NotFound, ValidationFailed
from domain.explanation import Line, explain
from domain.money import format_amount
from projections import queries
from projections.documents.model import Document, credit_note_document, invoice_document
from projections.documents.pdf import pdf_document

COOKIE = "chargeledger_support_key"


def signed_in(request: Request[Any, Any, Any], ctx: ApiContext) -> Principal | None:
    key = request.cookies.get(COOKIE)
    if not key:
        return None
    principal = authenticate(ctx.pool, key, ctx.admin_token)
    return principal if principal is not None and principal.emp_id is not None else None


def login_page(error: str | None = None, status_code: int = 200) -> Template:
    return Template(
        "support/login.html", context={"error": error, "signed_in": False}, status_code=status_code
    )


@get("/support", sync_to_thread=True, include_in_schema=False)
def search_page(
    request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext], q: FromQuery[str] = ""
) -> Template:
    principal = signed_in(request, ctx)
    if principal is None:
        return login_page()
    assert principal.emp_id is not None
    if "\x00" in q:
        raise ValidationFailed("q: the search text holds a NUL character", field="q")  # PostgreSQL refuses it
    rows = queries.search_customers(ctx.pool, principal.emp_id, q.strip()) if q.strip() else []
    customers = [
        {**row, "balance": format_amount(row["balance_minor"], row["currency"].strip())} for row in rows
    ]
    return Template("support/search.html", context={"q": q, "customers": customers, "signed_in": True})


@post("/support/login", include_in_schema=False)
async def login(request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]) -> Response[Any]:
    form = await request.form()
    key = str(form.get("key", "")).strip()
    principal = await anyio.to_thread.run_sync(authenticate, ctx.pool, key, ctx.admin_token) if key else None
    if principal is None or principal.emp_id is None:
        return login_page("That key is not an API key of an EMP.", status_code=401)
    secure = request.url.scheme == "https"
    return Redirect(
        "/support",
        status_code=303,
        cookies=[
            Cookie(key=COOKIE, value=key, httponly=True, samesite="strict", secure=secure, path="/support")
        ],
    )


@post("/support/logout", include_in_schema=False)
async def logout() -> Response[Any]:
    return Redirect(
        "/support", status_code=303, cookies=[Cookie(key=COOKIE, value="", max_age=0, path="/support")]
    )


@get("/support/customers/{customer_id:uuid}", sync_to_thread=True, include_in_schema=False)
def customer_page(
    customer_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    at: FromQuery[str | None] = None,
) -> Template:
    principal = signed_in(request, ctx)
    if principal is None:
        return login_page()
    assert principal.emp_id is not None
    row = queries.customer(ctx.pool, principal.emp_id, customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    currency = row["currency"].strip()
    emp_now = ctx.services.now_for(principal.emp_id)
    zone = ctx.services.ledger.get_emp(principal.emp_id).zone
    instant = min(business_instant(at, zone) or emp_now, emp_now)
    explanation = explain(ctx.services.ledger.events.get(customer_id), as_of=instant)
    context = {
        "signed_in": True,
        "customer": row,
        "balance_now": format_amount(row["balance_minor"], currency),
        "chart": balance_chart(
            queries.balance_series(ctx.pool, customer_id), currency, instant, emp_now, zone
        ),
        "balance_at": format_amount(explanation.balance_minor, currency),
        "at_label": f"{instant.astimezone(zone).strftime('%Y-%m-%d %H:%M:%S')} ({zone.key})",
        "at_value": instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"),
        "time_zone": zone.key,
        "lines": [_line_view(line, currency, zone) for line in explanation.lines],
        **_documents(ctx, principal.emp_id, customer_id, zone),
    }
    return Template("support/customer.html", context=context)


def _documents(ctx: ApiContext, emp_id: UUID, customer_id: UUID, zone: ZoneInfo) -> dict[str, Any]:
    """The customer's invoices and credit notes, newest first (the first 500 of each)."""

    def day(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d")

    invoices = queries.invoices_page(ctx.pool, emp_id, customer_id=customer_id, limit=500, after=0)
    notes = queries.credit_notes_page(ctx.pool, emp_id, customer_id=customer_id, limit=500, after=0)
    return {
        "invoices": [
            {
                "id": row["id"],
                "number": row["number"],
                "issued": day(row["issued_at"]),
                "due": day(row["due_at"]),
                "status": row["status"],
                "total": format_amount(row["total_minor"], row["currency"].strip()),
                "open": format_amount(
                    max(row["total_minor"] - row["amount_paid_minor"] - row["credited_minor"], 0),
                    row["currency"].strip(),
                ),
            }
            for row in reversed(invoices)
        ],
        "credit_notes": [
            {
                "id": row["id"],
                "number": row["number"],
                "issued": day(row["issued_at"]),
                "invoice_number": row["invoice_number"],
                "reason": row["reason"],
                "total": format_amount(row["total_minor"], row["currency"].strip()),
            }
            for row in reversed(notes)
        ],
    }


@get("/support/invoices/{invoice_id:uuid}/pdf", sync_to_thread=True, include_in_schema=False)
def invoice_pdf(
    invoice_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """An invoice's PDF, for the EMP signed in to the support page; 404 for anyone else."""
    principal = signed_in(request, ctx)
    doc = None if principal is None else invoice_document(ctx.pool, invoice_id, principal.emp_id)
    if doc is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return _pdf(doc)


@get("/support/credit-notes/{credit_note_id:uuid}/pdf", sync_to_thread=True, include_in_schema=False)
def credit_note_pdf(
    credit_note_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """A credit note's PDF, for the EMP signed in to the support page; 404 for anyone else."""
    principal = signed_in(request, ctx)
    doc = None if principal is None else credit_note_document(ctx.pool, credit_note_id, principal.emp_id)
    if doc is None:
        raise NotFound(f"credit note {credit_note_id} not found")
    return _pdf(doc)


def _pdf(doc: Document) -> Response[bytes]:
    return Response(
        pdf_document(doc),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{doc.filename}"'},
    )


def business_instant(at: str | None, zone: ZoneInfo) -> datetime | None:
    """The form's instant: a wall-clock time in the EMP's time zone (what a browser's
    datetime-local field sends), or a full RFC 3339 instant."""
    if at and len(at) <= 19:
        try:
            local = datetime.fromisoformat(at)
        except ValueError:
            raise ValidationFailed("at: not a date and time (YYYY-MM-DDTHH:MM:SS)", field="at") from None
        return parse_instant(local.replace(tzinfo=zone).isoformat(), "at")
    return parse_instant(at, "at")


def _line_view(line: Line, currency: str, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "sequence": line.sequence,
        "type": line.type,
        "occurred": line.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "recorded": line.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cause": describe(line, currency),
        "delta_minor": line.delta_minor,
        "delta": format_amount(line.delta_minor, currency),
        "balance_after_minor": line.balance_after_minor,
        "balance_after": format_amount(line.balance_after_minor, currency),
    }


def describe(line: Line, currency: str) -> str:
    """The cause of a movement in a sentence support can read out."""
    cause = line.cause
    if line.type == "SessionCredited":
        return f"credit by the charge point operator for session {cause['credited_session_id']}"
    if line.type == "SessionCharged":
        kwh = f"{cause['energy_wh'] // 1000}.{cause['energy_wh'] % 1000:03d} kWh"
        return f"charging session {cause['session_id']}, {kwh}" + (
            f" at {cause['location']}" if cause["location"] else ""
        )
    if line.type == "TopUpApplied" and cause.get("rule"):
        return (
            f"automatic top-up: the balance was {format_amount(cause['balance_at_trigger_minor'], currency)},"
            f" below the threshold of {format_amount(cause['threshold_minor'], currency)}"
        )
    if line.type == "TopUpApplied":
        return {"manual": "manual top-up by card", "package": "top-up package"}.get(
            cause.get("source", ""), "top-up"
        )
    if line.type == "PrepaymentDebited":
        return f"package {cause['package_code']}" + (
            " (paid from the balance)" if cause["settled_by"] == "balance" else ""
        )
    if line.type == "UnusedDaysCredited":
        return f"package {cause['package_code']} replaced: the unused days of its period credited"
    if line.type == "PaymentTaken":
        return "card payment"
    if line.type == "AdjustmentRecorded":
        return f"correction: {cause['reason']} (by {cause['recorded_by']})"
    if line.type == "PaymentFailed":
        what = "automatic top-up" if cause.get("purpose") == "automatic_top_up" else "payment"
        return (
            f"{what} of {format_amount(cause['attempted_minor'], currency)} failed ({cause['decline_code']})"
        )
    return line.type


ROUTES = [search_page, login, logout, customer_page, invoice_pdf, credit_note_pdf]
