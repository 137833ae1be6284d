"""Customers of an EMP: registration, payment card, automatic top-up consent, balance."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import emp_only, readers
from api.context import ApiContext
from api.field_patterns import NO_NUL
from api.pagination import Limit, cursor_after, decode_cursor, identifier, instant, position
from api.problems import problems
from api.schemas import (
    AuthorizationOut,
    AutoTopUpIn,
    CardIn,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    IdempotencyKey,
    TopUpIn,
    TopUpOut,
    TransactionOut,
    TransactionPage,
)
from commands.messages import (
    ChangeCustomer,
    RegisterCustomer,
    RemovePaymentCard,
    SetAutoTopUp,
    StorePaymentCard,
    TopUpBalance,
)
from commands.unit_of_work import BalanceChanged
from domain.authorization import authorization
from domain.errors import NotFound
from projections import queries


def customer_out(
    ctx: NamedDependency[ApiContext], emp_id: FromPath[UUID], customer_id: FromPath[UUID]
) -> CustomerOut:
    row = queries.customer(ctx.pool, emp_id, customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    return CustomerOut.from_row(row)


@post(
    "/v1/customers",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["customers"],
    responses={
        **problems(409, 413),
        200: ResponseSpec(CustomerOut, description="the same external_ref and data again: that customer"),
    },
)
def register_customer(
    data: JSONBody[CustomerIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> Response[CustomerOut]:
    principal = request.user
    outcome = ctx.execute(
        RegisterCustomer(
            emp_id=principal.emp_id,
            name=data.name,
            email=data.email,
            account_type=data.account_type,
            external_ref=data.external_ref,
            actor=principal.actor,
        )
    )
    body = customer_out(ctx, principal.emp_id, outcome.id)
    return Response(body, status_code=201 if outcome.created else 200)


SearchText = Annotated[str | None, QueryParameter(min_length=1, max_length=254, pattern=NO_NUL)]


@get("/v1/customers", guards=[readers], sync_to_thread=True, tags=["customers"], responses=problems())
def list_customers(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
    external_ref: SearchText = None,
    email: SearchText = None,
    q: SearchText = None,
) -> CustomerPage:
    """Filters, all optional and combined: `external_ref` exactly, `email` the whole address,
    `q` part of the name or the e-mail; `email` and `q` are case- and accent-insensitive
    ("zoe" finds Zoë)."""
    after = tuple(decode_cursor(cursor, instant, identifier)) if cursor else None
    rows = queries.customers_page(
        ctx.pool,
        request.user.emp_id,
        limit=limit + 1,
        after=after,  # type: ignore[arg-type]
        external_ref=external_ref,
        email=email,
        q=q,
    )
    items = [CustomerOut.from_row(row) for row in rows[:limit]]
    next_cursor = cursor_after(rows, limit, "created_at", "id")
    return CustomerPage(items=items, next_cursor=next_cursor)


@get(
    "/v1/customers/{customer_id:uuid}",
    guards=[readers],
    sync_to_thread=True,
    tags=["customers"],
    responses=problems(404),
)
def get_customer(
    customer_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> CustomerOut:
    return customer_out(ctx, request.user.emp_id, customer_id)


@patch(
    "/v1/customers/{customer_id:uuid}",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["customers"],
    responses=problems(404, 409, 413),
)
def change_customer(
    customer_id: FromPath[UUID],
    data: JSONBody[CustomerPatch],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
) -> CustomerOut:
    """Name, email, external reference and billing details (the buyer on invoices issued from
    now on). Each change is an event: the history keeps the old values."""
    principal = request.user
    changes: dict[str, Any] = {
        name: value
        for name, value in (("name", data.name), ("email", data.email), ("external_ref", data.external_ref))
        if value is not None
    }
    if data.billing is not None:
        changes["billing"] = msgspec.to_builtins(data.billing)
    ctx.execute(ChangeCustomer(principal.emp_id, customer_id, changes, principal.actor))
    return customer_out(ctx, principal.emp_id, customer_id)


@put(
    "/v1/customers/{customer_id:uuid}/payment-card",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["customers"],
    responses=problems(402, 404, 413, 422),
)
def store_payment_card(
    customer_id: FromPath[UUID],
    data: JSONBody[CardIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
) -> CustomerOut:
    principal = request.user
    ctx.execute(StorePaymentCard(principal.emp_id, customer_id, data.card(), principal.actor))
    return customer_out(ctx, principal.emp_id, customer_id)


@delete(
    "/v1/customers/{customer_id:uuid}/payment-card",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=200,
    tags=["customers"],
    responses=problems(404),
)
def remove_payment_card(
    customer_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> CustomerOut:
    principal = request.user
    ctx.execute(RemovePaymentCard(principal.emp_id, customer_id, principal.actor))
    return customer_out(ctx, principal.emp_id, customer_id)


@put(
    "/v1/customers/{customer_id:uuid}/auto-top-up",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["customers"],
    responses=problems(404, 413, 422),
)
def set_auto_top_up(
    customer_id: FromPath[UUID],
    data: JSONBody[AutoTopUpIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
) -> CustomerOut:
    principal = request.user
    ctx.execute(
        SetAutoTopUp(
            emp_id=principal.emp_id,
            customer_id=customer_id,
            enabled=data.enabled,
            threshold_minor=data.threshold_minor,
            amount_minor=data.amount_minor,
            actor=principal.actor,
        )
    )
    return customer_out(ctx, principal.emp_id, customer_id)


ROUTES = [
    register_customer,
    list_customers,
    get_customer,
    change_customer,
    store_payment_card,
    remove_payment_card,
    set_auto_top_up,
]


@post(
    "/v1/customers/{customer_id:uuid}/top-ups",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=201,
    tags=["customers"],
    responses=problems(402, 404, 409, 413, 422),
)
def top_up(
    customer_id: FromPath[UUID],
    data: JSONBody[TopUpIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> TopUpOut:
    principal = request.user
    outcome = ctx.execute(
        TopUpBalance(
            emp_id=principal.emp_id,
            customer_id=customer_id,
            amount_minor=data.amount_minor,
            actor=principal.actor,
            request_key=idempotency_key,
        ),
        BalanceChanged,
    )
    return TopUpOut(id=str(outcome.id), amount_minor=data.amount_minor, balance_minor=outcome.balance_minor)


@post(
    "/v1/customers/{customer_id:uuid}/authorize",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=200,
    tags=["customers"],
    responses=problems(404, 409, 413),
)
def authorize(
    customer_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> AuthorizationOut:
    """OCPI semantics: postpaid ALLOWED; prepaid ALLOWED only while the balance is above zero
    (the decision OCPI's real-time authorization makes too)."""
    customer = ctx.services.ledger.get_customer(customer_id, request.user.emp_id)
    return AuthorizationOut(allowed=authorization(customer))


@get(
    "/v1/customers/{customer_id:uuid}/transactions",
    guards=[readers],
    sync_to_thread=True,
    tags=["ledger"],
    responses=problems(404),
)
def list_transactions(
    customer_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> TransactionPage:
    emp_id = request.user.emp_id
    customer_out(ctx, emp_id, customer_id)  # not-found for another EMP's customer
    after = decode_cursor(cursor, position)[0] if cursor else 0
    rows = queries.transactions_page(ctx.pool, emp_id, customer_id, limit=limit + 1, after=after)
    items = [TransactionOut.from_row(row) for row in rows[:limit]]
    next_cursor = cursor_after(rows, limit, "sequence")
    return TransactionPage(items=items, next_cursor=next_cursor)


ROUTES += [top_up, authorize, list_transactions]
