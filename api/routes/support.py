"""A server-rendered page for support staff: find a customer, see the balance over time, the
explanation of the balance at any instant and the customer's context, and record a correction.
Signed in with an EMP key once; the browser then holds a session id only (api/support_sessions.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from api.context import ApiContext
from api.keys import authenticate
from api.problems import forbidden
from api.support_adjustments import AdjustmentForm, record_from_form
from api.support_customer import customer_view
from api.support_sessions import (
    COOKIE,
    LIFETIME,
    SupportSession,
    close_session,
    current_session,
    open_session,
)
from domain.errors import NotFound, ValidationFailed
from domain.money import format_amount
from projections import queries
from projections.documents.model import Document, credit_note_document, invoice_document
from projections.documents.pdf import pdf_document

# The roles the API lets record adjustments (api/routes/history.py: support_or_emp).
ADJUSTERS = frozenset({"support", "emp"})


def login_page(request: Request[Any, Any, Any], error: str | None = None, status_code: int = 200) -> Template:
    """The sign-in form; once signed in, back to the page that asked for it."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Template(
        "support/login.html",
        context={"error": error, "session": None, "next": back if request.method == "GET" else "/support"},
        status_code=status_code,
    )


@get("/support", sync_to_thread=True, include_in_schema=False)
def search_page(
    request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext], q: FromQuery[str] = ""
) -> Template:
    session = current_session(ctx.pool, request)
    if session is None:
        return login_page(request)
    if "\x00" in q:
        raise ValidationFailed("q: the search text holds a NUL character", field="q")  # PostgreSQL refuses it
    emp_id = session.principal.emp_id
    assert emp_id is not None
    rows = queries.search_customers(ctx.pool, emp_id, q.strip()) if q.strip() else []
    customers = [
        {**row, "balance": format_amount(row["balance_minor"], row["currency"].strip())} for row in rows
    ]
    return Template("support/search.html", context={"q": q, "customers": customers, "session": session})


@post("/support/login", include_in_schema=False)
async def login(request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]) -> Response[Any]:
    """A key of an EMP opens a session; wrong keys count against the address, as on the API."""
    address = request.client.host if request.client else "unknown"
    ctx.auth_failures.refuse_if_limited(address, "sign-ins")
    form = await request.form()
    key = str(form.get("key", "")).strip()
    principal = await anyio.to_thread.run_sync(authenticate, ctx.pool, key, ctx.admin_token) if key else None
    if principal is None or principal.emp_id is None:
        if principal is None:
            ctx.auth_failures.failed(address)
        return login_page(request, "That key is not an API key of an EMP.", status_code=401)
    session_id = await anyio.to_thread.run_sync(open_session, ctx.pool, principal)
    back = str(form.get("next", ""))
    secure = request.url.scheme == "https" or (ctx.public_url or "").startswith("https://")
    return Redirect(
        back if back.startswith("/support") and back.isprintable() else "/support",
        status_code=303,
        cookies=[
            Cookie(
                key=COOKIE,
                value=session_id,
                httponly=True,
                samesite="strict",
                secure=secure,
                path="/support",
                max_age=int(LIFETIME.total_seconds()),
            )
        ],
    )


@post("/support/logout", include_in_schema=False)
async def logout(request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]) -> Response[Any]:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        await anyio.to_thread.run_sync(close_session, ctx.pool, session_id)
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
    session = current_session(ctx.pool, request)
    if session is None:
        return login_page(request)
    return _customer_page(ctx, session, customer_id, at)


def _customer_page(
    ctx: ApiContext,
    session: SupportSession,
    customer_id: UUID,
    at: str | None = None,
    form: AdjustmentForm | None = None,
    status_code: int = 200,
) -> Template:
    emp_id = session.principal.emp_id
    assert emp_id is not None
    context = customer_view(ctx, emp_id, customer_id, at)
    may_adjust = session.principal.role in ADJUSTERS
    # A fresh form key each time the form is shown: a form sent twice records one correction.
    shown_form = form or AdjustmentForm(form_key=str(uuid4()))
    context.update(session=session, adjustment=shown_form if may_adjust else None)
    return Template("support/customer.html", context=context, status_code=status_code)


@post("/support/customers/{customer_id:uuid}/adjustments", include_in_schema=False)
async def adjustment_form(
    customer_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[Any]:
    """The correction form: support records a compensating movement, as over the API."""
    fields = {name: str(value) for name, value in (await request.form()).items()}
    session = await anyio.to_thread.run_sync(current_session, ctx.pool, request)
    if session is None:
        return login_page(request, "Your session has ended: sign in again.", status_code=401)
    if not session.csrf_matches(fields.get("csrf_token", "")):
        raise forbidden(
            "the form was not sent from this support page (its security token is missing or wrong)"
        )
    if session.principal.role not in ADJUSTERS:
        raise forbidden(f"a key with role {session.principal.role} may not record adjustments")

    def record() -> Template:
        form = record_from_form(ctx, session.principal, customer_id, fields)
        return _customer_page(ctx, session, customer_id, form=form, status_code=422 if form.errors else 200)

    return await anyio.to_thread.run_sync(record)


@get("/support/invoices/{invoice_id:uuid}/pdf", sync_to_thread=True, include_in_schema=False)
def invoice_pdf(
    invoice_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """An invoice's PDF, for the EMP signed in to the support page; 404 for anyone else."""
    session = current_session(ctx.pool, request)
    doc = None if session is None else invoice_document(ctx.pool, invoice_id, session.principal.emp_id)
    if doc is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return _pdf(doc)


@get("/support/credit-notes/{credit_note_id:uuid}/pdf", sync_to_thread=True, include_in_schema=False)
def credit_note_pdf(
    credit_note_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """A credit note's PDF, for the EMP signed in to the support page; 404 for anyone else."""
    session = current_session(ctx.pool, request)
    doc = (
        None if session is None else credit_note_document(ctx.pool, credit_note_id, session.principal.emp_id)
    )
    if doc is None:
        raise NotFound(f"credit note {credit_note_id} not found")
    return _pdf(doc)


def _pdf(doc: Document) -> Response[bytes]:
    return Response(
        pdf_document(doc),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{doc.filename}"'},
    )


ROUTES = [search_page, login, logout, customer_page, adjustment_form, invoice_pdf, credit_note_pdf]
