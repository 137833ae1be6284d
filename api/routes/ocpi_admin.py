"""The EMP's side of OCPI over /v1: the charge point operators it connects with (parties and
their token A), its drivers' tokens, and the CDRs no customer's token matched."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import emp_only, readers
from api.context import ApiContext
from api.ocpi.envelope import sha256
from api.ocpi.urls import versions_url
from api.pagination import Limit, cursor_after, decode_cursor, identifier, instant
from api.problems import problems
from api.schemas import (
    AssignCdrIn,
    AssignedCdrOut,
    CustomerTokenIn,
    CustomerTokenOut,
    IdempotencyKey,
    OcpiPartyIn,
    OcpiPartyOut,
    OcpiPartyPage,
    UnmatchedCdrOut,
    UnmatchedCdrPage,
)
from commands.messages import AssignCdr, CreateOcpiParty, InvalidateToken, IssueToken
from commands.ocpi import CdrReceived
from domain.errors import Duplicate, NotFound
from projections import ocpi_queries


@post(
    "/v1/ocpi/parties",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=201,
    tags=["ocpi"],
    responses=problems(409, 413, 422),
)
def create_party(
    data: JSONBody[OcpiPartyIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> OcpiPartyOut:
    """A charge point operator to connect: hand it `token_a` and `versions_url` out of band
    (token A is answered only here); it registers with them over OCPI's credentials module."""
    principal = request.user
    country, party_code = data.country_code.upper(), data.party_id.upper()
    if ocpi_queries.active_party(ctx.pool, principal.emp_id, country, party_code) is not None:
        raise Duplicate(f"operator {country}*{party_code} is connected or pending already", field="party_id")
    token_a = secrets.token_urlsafe(32)
    outcome = ctx.execute(
        CreateOcpiParty(
            emp_id=principal.emp_id,
            country_code=country,
            party_id=party_code,
            name=data.name,
            markup_bp=data.markup_bp,
            token_a_sha256=sha256(token_a),
            actor=principal.actor,
        )
    )
    party = ctx.services.ledger.get_party(outcome.id, principal.emp_id)
    return OcpiPartyOut(
        id=str(party.id),
        country_code=party.country_code,
        party_id=party.party_id,
        name=party.name,
        markup_bp=party.markup_bp,
        versions_url=versions_url(ctx, request.scope),
        status="pending",
        created_at=party.created_on,
        token_a=token_a,
    )


@get("/v1/ocpi/parties", guards=[readers], sync_to_thread=True, tags=["ocpi"], responses=problems())
def list_parties(request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]) -> OcpiPartyPage:
    url = versions_url(ctx, request.scope)
    return OcpiPartyPage(
        [
            OcpiPartyOut(
                id=str(row["id"]),
                country_code=row["country_code"],
                party_id=row["party_id"],
                name=row["name"],
                markup_bp=row["markup_bp"],
                versions_url=url,
                status=row["status"],
                created_at=row["created_at"],
            )
            for row in ocpi_queries.parties(ctx.pool, request.user.emp_id)
        ]
    )


@get("/v1/ocpi/unmatched-cdrs", guards=[readers], sync_to_thread=True, tags=["ocpi"], responses=problems())
def list_unmatched_cdrs(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> UnmatchedCdrPage:
    """CDRs whose token no customer of the EMP holds: kept, nothing charged, until assigned."""
    after = tuple(decode_cursor(cursor, instant, identifier)) if cursor else None
    rows = ocpi_queries.unmatched_cdrs(ctx.pool, request.user.emp_id, limit=limit + 1, after=after)  # type: ignore[arg-type]
    items = [
        UnmatchedCdrOut(
            id=str(row["id"]),
            session_id=row["session_id"],
            country_code=row["country_code"],
            party_id=row["party_id"],
            party_name=row["party_name"],
            token_uid=row["token_uid"],
            cost_minor=row["cost_minor"],
            currency=row["currency"],
            received_at=row["received_at"],
        )
        for row in rows[:limit]
    ]
    next_cursor = cursor_after(rows, limit, "received_at", "id")
    return UnmatchedCdrPage(items, next_cursor)


@post(
    "/v1/ocpi/unmatched-cdrs/{cdr_id:uuid}/assign",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=200,
    tags=["ocpi"],
    responses=problems(404, 409, 413, 422),
)
def assign_cdr(
    cdr_id: FromPath[UUID],
    data: JSONBody[AssignCdrIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> AssignedCdrOut:
    """Record an unmatched CDR once, as this customer's session."""
    principal = request.user
    outcome = ctx.execute(AssignCdr(principal.emp_id, cdr_id, data.customer_id, principal.actor), CdrReceived)
    cdr = ctx.services.ledger.get_cdr(outcome.id, principal.emp_id)
    return AssignedCdrOut(str(cdr.id), cdr.session_id, str(data.customer_id), cdr.cost_minor)


def token_out(token: Any) -> CustomerTokenOut:
    return CustomerTokenOut(
        uid=token.uid,
        type=token.type,
        contract_id=token.contract_id,
        visual_number=token.visual_number,
        valid=token.valid,
        customer_id=str(token.customer_id),
        last_updated=token.last_updated,
    )


@post(
    "/v1/customers/{customer_id:uuid}/tokens",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=201,
    tags=["customers"],
    responses=problems(404, 409, 413),
)
def issue_token(
    customer_id: FromPath[UUID],
    data: JSONBody[CustomerTokenIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> CustomerTokenOut:
    """A driver's token (RFID card, app): charge points identify the customer by its `uid`,
    unique in the EMP whatever its case."""
    principal = request.user
    ctx.execute(
        IssueToken(
            emp_id=principal.emp_id,
            customer_id=customer_id,
            uid=data.uid,
            type=data.type,
            contract_id=data.contract_id,
            visual_number=data.visual_number,
            actor=principal.actor,
        )
    )
    token = ctx.services.ledger.find_token(principal.emp_id, data.uid)
    assert token is not None
    return token_out(token)


@delete(
    "/v1/customers/{customer_id:uuid}/tokens/{uid:str}",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=200,
    tags=["customers"],
    responses=problems(404),
)
def invalidate_token(
    customer_id: FromPath[UUID],
    uid: FromPath[str],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
) -> CustomerTokenOut:
    """The token stays known (a charge point asking about it hears BLOCKED), no longer valid."""
    principal = request.user
    ctx.execute(InvalidateToken(principal.emp_id, customer_id, uid, principal.actor))
    token = ctx.services.ledger.find_token(principal.emp_id, uid)
    if token is None:
        raise NotFound(f"token {uid!r} not found")
    return token_out(token)


ROUTES = [create_party, list_parties, list_unmatched_cdrs, assign_cdr, issue_token, invalidate_token]
