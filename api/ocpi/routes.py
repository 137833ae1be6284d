"""OCPI 2.2.1, eMSP role: versions, credentials (both ways), the CDRs receiver and the tokens
sender with real-time authorization. Each answer is an OCPI envelope (api/ocpi/envelope.py);
CDRs become sessions through the ledger's one session path (commands/ocpi.py)."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.context import ApiContext
from api.ocpi import structs
from api.ocpi.envelope import (
    INVALID_PARAMETERS,
    MEDIA_TYPE,
    TOKEN_A,
    TOKEN_C,
    UNKNOWN_TOKEN,
    Caller,
    OcpiError,
    answer,
    as_utc,
    caller,
    instant,
    registered,
    registering,
    sha256,
)
from api.ocpi.urls import VERSION, module_url, version_url, versions_url
from commands.messages import ConnectOcpiParty, ReceiveCdr, UnregisterOcpiParty
from commands.ocpi import CdrReceived
from commands.ocpi_peer import fetch_version
from domain.aggregates.customer import PREPAID
from domain.authorization import authorization
from domain.errors import MethodNotAllowed, ValidationFailed
from domain.ocpi import energy_wh, minor_units, session_id_of, with_markup
from projections import ocpi_queries

MAX_PAGE = 100
OCPI_SECURITY: list[dict[str, list[str]]] = [{"ocpiToken": []}]


def documented(envelope: type, *codes: int) -> dict[int, ResponseSpec]:
    """An OCPI route's answers: its envelope for 200, and an envelope for each error status."""
    answers = {
        200: ResponseSpec(
            envelope, description="OCPI status 1000, or a refusal in status_code", generate_examples=False
        )
    }
    descriptions = {
        400: "status 2001: the body is not JSON, or a query parameter is malformed",
        401: "status 2000: no valid credentials token",
        404: "status 2000 (2004 for an unknown token): no such resource",
        405: "status 2000: the party's registration state does not allow this method",
    }
    for code in codes:
        answers[code] = ResponseSpec(
            structs.Envelope, description=descriptions[code], generate_examples=False
        )
    return answers


def ocpi_route(*, token_a: bool = False, **kwargs: Any) -> dict[str, Any]:
    """An OCPI route: token C needed (`token_a`: token A of a registering party too)."""
    guard = registering if token_a else registered
    route = {"tags": ["ocpi"], "security": OCPI_SECURITY, "media_type": MEDIA_TYPE, "guards": [guard]}
    return {**route, **kwargs}


# --- versions ------------------------------------------------------------------------------


@get("/ocpi/versions", **ocpi_route(token_a=True, responses=documented(structs.VersionsEnvelope, 401)))
async def versions(request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]) -> Response[bytes]:
    """The OCPI versions chargeledger speaks (token A or C)."""
    return answer([structs.Version(VERSION, version_url(ctx, request.scope))])


def _endpoints(ctx: ApiContext, scope: Any) -> structs.VersionDetails:
    return structs.VersionDetails(
        VERSION,
        [
            structs.Endpoint("credentials", "SENDER", module_url(ctx, scope, "credentials")),
            structs.Endpoint("cdrs", "RECEIVER", module_url(ctx, scope, "cdrs")),
            structs.Endpoint("tokens", "SENDER", module_url(ctx, scope, "tokens")),
        ],
    )


@get("/ocpi/2.2.1", **ocpi_route(token_a=True, responses=documented(structs.VersionDetailsEnvelope, 401)))
async def version_details(
    request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """Version 2.2.1's endpoints: credentials, cdrs (receiver), tokens (sender)."""
    return answer(_endpoints(ctx, request.scope))


# --- credentials ---------------------------------------------------------------------------


def _our_credentials(ctx: ApiContext, scope: Any, caller: Caller, token: str) -> structs.Credentials:
    emp = ctx.services.ledger.get_emp(caller.emp_id)
    role = structs.CredentialsRole(
        role="EMSP",
        business_details=structs.BusinessDetails(name=business_name(emp.name)),
        party_id=emp.ocpi_party_id or "",
        country_code=emp.ocpi_country_code or "",
    )
    return structs.Credentials(token=token, url=versions_url(ctx, scope), roles=[role])


def business_name(name: str) -> str:
    """The EMP's name as OCPI's `string(100)`: no control characters, at most 100 of them."""
    shown = "".join(ch for ch in name if ch.isprintable()).strip()[:100]
    return shown or "EMP"


def _check_theirs(caller: Caller, theirs: structs.Credentials) -> None:
    if not any(
        r.role == "CPO"
        and (r.country_code.upper(), r.party_id.upper()) == (caller.country_code, caller.party_id)
        for r in theirs.roles
    ):
        raise ValidationFailed(
            f"roles: this token is for the CPO {caller.country_code}*{caller.party_id}, not among the roles",
            field="roles",
        )


def _register(
    ctx: ApiContext, scope: Any, caller: Caller, theirs: structs.Credentials, update: bool
) -> bytes:
    """Read the operator's endpoints with its token, then record the connection with a new C."""
    _check_theirs(caller, theirs)
    peer = fetch_version(theirs.url, theirs.token, allow_insecure=ctx.allow_insecure_outbound)
    token_c = secrets.token_urlsafe(32)
    ctx.execute(
        ConnectOcpiParty(
            emp_id=caller.emp_id,
            party=caller.party,
            token_c_sha256=sha256(token_c),
            versions_url=theirs.url,
            version=peer.version,
            endpoints=peer.endpoints,
            roles=msgspec.to_builtins(theirs.roles),
            actor=f"ocpi-party:{caller.party}",
            update=update,
        )
    )
    return msgspec.json.encode(_our_credentials(ctx, scope, caller, token_c))


CREDENTIALS = documented(structs.CredentialsEnvelope, 400, 401, 405)
CREDENTIALS_READ = documented(structs.CredentialsEnvelope, 401)


@get(
    "/ocpi/2.2.1/credentials",
    **ocpi_route(token_a=True, responses=documented(structs.CredentialsEnvelope, 401)),
)
async def get_credentials(
    request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """The credentials the caller holds for chargeledger."""
    who = caller(request)
    credentials = await anyio.to_thread.run_sync(_our_credentials, ctx, request.scope, who, who.token)
    return answer(credentials)


@post("/ocpi/2.2.1/credentials", status_code=200, **ocpi_route(token_a=True, responses=CREDENTIALS))
async def register_credentials(
    data: JSONBody[structs.Credentials], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """Registration with token A: chargeledger reads the operator's versions and endpoints with
    its token B, then answers its own credentials with a new token C; token A then stops."""
    who = caller(request)
    if who.kind == TOKEN_C:
        raise MethodNotAllowed("registered already: update the credentials with PUT")
    ours = await anyio.to_thread.run_sync(_register, ctx, request.scope, who, data, False)
    return answer(msgspec.Raw(ours))


@put("/ocpi/2.2.1/credentials", **ocpi_route(token_a=True, responses=CREDENTIALS))
async def update_credentials(
    data: JSONBody[structs.Credentials], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """Rotation: the operator's new credentials are read as at registration; a new token C is
    answered and the old one stops working."""
    who = caller(request)
    if who.kind == TOKEN_A:
        raise MethodNotAllowed("not registered yet: register with POST")
    ours = await anyio.to_thread.run_sync(_register, ctx, request.scope, who, data, True)
    return answer(msgspec.Raw(ours))


@delete(
    "/ocpi/2.2.1/credentials",
    status_code=200,
    **ocpi_route(token_a=True, responses=documented(structs.Envelope, 401, 405)),
)
async def unregister(request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]) -> Response[bytes]:
    """The operator ends the connection: its token C stops working; the party stays unregistered."""
    who = caller(request)
    if who.kind == TOKEN_A:
        raise MethodNotAllowed("not registered: there is nothing to unregister")
    command = UnregisterOcpiParty(who.emp_id, who.party, f"ocpi-party:{who.party}")
    await anyio.to_thread.run_sync(ctx.execute, command)
    return answer()


# --- CDRs ----------------------------------------------------------------------------------


def canonical_digest(body: bytes) -> str:
    """The same CDR however it was written (key order, spacing, 4.4 or 4.40)."""
    from api.ocpi.envelope import DECIMAL_JSON

    def canonical(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value.normalize())
        if isinstance(value, dict):
            return {key: canonical(item) for key, item in value.items()}
        if isinstance(value, list):
            return [canonical(item) for item in value]
        return value

    return sha256(msgspec.json.encode(canonical(DECIMAL_JSON.decode(body)), order="sorted").decode())


def location_of(location: structs.CdrLocation) -> str:
    place = ", ".join(
        part for part in (location.address, f"{location.postal_code or ''} {location.city}".strip())
    )
    return f"{location.id} {location.evse_id}, {place}"


def cdr_command(cdr: structs.Cdr, body: bytes, caller: Caller, currency_of_emp: str) -> ReceiveCdr:
    """The CDR mapped to a session: amounts exact, markup half-even (domain/ocpi.py)."""
    if (cdr.country_code.upper(), cdr.party_id.upper()) != (caller.country_code, caller.party_id):
        raise ValidationFailed(
            f"country_code/party_id: this token is for {caller.country_code}*{caller.party_id}",
            field="party_id",
        )
    price = cdr.total_cost.incl_vat if cdr.total_cost.incl_vat is not None else cdr.total_cost.excl_vat
    field = "total_cost.incl_vat" if cdr.total_cost.incl_vat is not None else "total_cost.excl_vat"
    cost = minor_units(price, currency_of_emp, field)
    credited = None
    if cdr.credit:
        if not cdr.credit_reference_id:
            raise ValidationFailed(
                "credit_reference_id: a credit CDR names the CDR it credits", field="credit"
            )
        if cost > 0:
            raise ValidationFailed(f"{field}: a credit CDR's total_cost is negative", field=field)
        credited = session_id_of(cdr.country_code, cdr.party_id, cdr.credit_reference_id)
    elif cost < 0:
        raise ValidationFailed(f"{field}: negative, and the CDR is not a credit", field=field)
    elif len(cdr.id) > 36:
        raise ValidationFailed(
            "id: a CDR that is not a credit has an id of at most 36 characters", field="id"
        )
    started, ended = as_utc(cdr.start_date_time), as_utc(cdr.end_date_time)
    if ended < started:
        raise ValidationFailed("end_date_time is before start_date_time", field="end_date_time")
    return ReceiveCdr(
        emp_id=caller.emp_id,
        party=caller.party,
        session_id=session_id_of(cdr.country_code, cdr.party_id, cdr.id),
        body=body.decode(),
        digest=canonical_digest(body),
        token_uid=cdr.cdr_token.uid,
        currency=cdr.currency,
        started_at=started,
        ended_at=ended,
        energy_wh=energy_wh(cdr.total_energy),
        cost_minor=with_markup(abs(cost), caller.markup_bp),
        location=location_of(cdr.cdr_location),
        credited_session_id=credited,
        actor=f"ocpi-party:{caller.party}",
    )


def _receive(ctx: ApiContext, cdr: structs.Cdr, body: bytes, caller: Caller) -> CdrReceived:
    emp = ctx.services.ledger.get_emp(caller.emp_id)
    if cdr.currency != emp.currency:
        raise ValidationFailed(
            f"currency: this eMSP bills in {emp.currency}, not {cdr.currency}", field="currency"
        )
    return ctx.execute(cdr_command(cdr, body, caller, emp.currency), CdrReceived)


@post(
    "/ocpi/2.2.1/cdrs",
    status_code=201,
    response_headers=[
        ResponseHeader(name="Location", description="the CDR at chargeledger", documentation_only=True)
    ],
    **ocpi_route(
        responses={
            **documented(structs.Envelope, 400, 401),
            201: ResponseSpec(
                structs.Envelope,
                description="status 1000: recorded (once; the same CDR again too)",
                generate_examples=False,
            ),
        }
    ),
)
async def receive_cdr(
    data: JSONBody[structs.Cdr], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """A CDR pushed by the operator: a session of the customer holding its token, a credit for
    the session a credit CDR names, or (no customer holds the token) kept as unmatched."""
    who = caller(request)
    body = await request.body()
    received = await anyio.to_thread.run_sync(_receive, ctx, data, body, who)
    location = f"{module_url(ctx, request.scope, 'cdrs')}/{received.id}"
    return answer(status=201, headers={"Location": location})


@get(
    "/ocpi/2.2.1/cdrs/{cdr_id:uuid}",
    **ocpi_route(responses=documented(structs.CdrEnvelope, 401, 404)),
)
async def get_cdr(
    cdr_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[bytes]:
    """A CDR this operator sent, as it sent it."""
    who = caller(request)
    stored = await anyio.to_thread.run_sync(ocpi_queries.cdr_body, ctx.pool, who.emp_id, who.party, cdr_id)
    if stored is None:
        raise OcpiError(2000, f"no CDR {cdr_id} of this operator", 404)
    return answer(msgspec.Raw(stored.encode()))


# --- tokens --------------------------------------------------------------------------------

Offset = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="the first object's position")]
PageLimit = Annotated[
    int,
    QueryParameter(ge=1, le=2**31 - 1, description=f"objects per page; more than {MAX_PAGE} get {MAX_PAGE}"),
]


def ocpi_token(emp: Any, row: dict[str, Any]) -> structs.Token:
    return structs.Token(
        country_code=emp.ocpi_country_code or "",
        party_id=emp.ocpi_party_id or "",
        uid=row["uid"],
        type=row["type"],
        contract_id=row["contract_id"],
        issuer=emp.name[:64],
        valid=row["valid"],
        whitelist="NEVER" if row["account_type"] == PREPAID else "ALLOWED_OFFLINE",
        last_updated=instant(row["last_updated"]),
        visual_number=row["visual_number"],
    )


@get(
    "/ocpi/2.2.1/tokens",
    response_headers=[
        ResponseHeader(
            name="X-Total-Count", description="tokens matching the query", documentation_only=True
        ),
        ResponseHeader(name="X-Limit", description="the page size applied", documentation_only=True),
        ResponseHeader(
            name="Link", description='the next page, rel="next"', required=False, documentation_only=True
        ),
    ],
    **ocpi_route(responses=documented(structs.TokensEnvelope, 400, 401)),
)
async def list_tokens(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    date_from: FromQuery[datetime | None] = None,
    date_to: FromQuery[datetime | None] = None,
    offset: Offset = 0,
    limit: PageLimit = MAX_PAGE,
) -> Response[bytes]:
    """The EMP's tokens, invalid ones included, last updated in [date_from, date_to)."""
    who = caller(request)
    applied = min(limit, MAX_PAGE)
    start = offset
    frm = None if date_from is None else as_utc(date_from)
    to = None if date_to is None else as_utc(date_to)

    def page() -> tuple[int, list[structs.Token]]:
        emp = ctx.services.ledger.get_emp(who.emp_id)
        total, rows = ocpi_queries.tokens_page(
            ctx.pool, who.emp_id, date_from=frm, date_to=to, offset=start, limit=applied
        )
        return total, [ocpi_token(emp, row) for row in rows]

    total, tokens = await anyio.to_thread.run_sync(page)
    headers = {"X-Total-Count": str(total), "X-Limit": str(applied)}
    if start + len(tokens) < total:
        query = {
            **({"date_from": instant(frm)} if frm else {}),
            **({"date_to": instant(to)} if to else {}),
            "offset": start + len(tokens),
            "limit": applied,
        }
        headers["Link"] = f'<{module_url(ctx, request.scope, "tokens")}?{urlencode(query)}>; rel="next"'
    return answer(tokens, headers=headers)


def _authorize(
    ctx: ApiContext, caller: Caller, uid: str, kind: str, where: structs.LocationReferences | None
) -> bytes:
    ledger = ctx.services.ledger
    token = ledger.find_token(caller.emp_id, uid)
    if token is None or token.type != kind:
        raise OcpiError(UNKNOWN_TOKEN, f"unknown token {uid!r} of type {kind}", 404)
    customer = ledger.get_customer(token.customer_id, caller.emp_id)
    emp = ledger.get_emp(caller.emp_id)
    allowed = authorization(customer, token_valid=token.valid)
    row = {
        "uid": token.uid,
        "type": token.type,
        "contract_id": token.contract_id,
        "visual_number": token.visual_number,
        "valid": token.valid,
        "last_updated": token.last_updated,
        "account_type": customer.account_type,
    }
    info = structs.AuthorizationInfo(
        allowed=allowed,
        token=ocpi_token(emp, row),
        authorization_reference=str(uuid.uuid4()),
        location=where if allowed == "ALLOWED" else None,
    )
    return msgspec.json.encode(info)


@post(
    "/ocpi/2.2.1/tokens/{token_uid:str}/authorize",
    status_code=200,
    **ocpi_route(responses=documented(structs.AuthorizationEnvelope, 400, 401, 404)),
)
async def authorize(
    token_uid: FromPath[str],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    data: JSONBody[structs.LocationReferences | None] = None,
    type: FromQuery[structs.TokenType] = "RFID",
) -> Response[bytes]:
    """Real-time authorization: ALLOWED, NO_CREDIT or BLOCKED, as /v1/customers/{id}/authorize
    decides it; an unknown token is 404 with status 2004."""
    who = caller(request)
    if len(token_uid) > 36:
        raise OcpiError(INVALID_PARAMETERS, "token_uid: at most 36 characters")
    info = await anyio.to_thread.run_sync(_authorize, ctx, who, token_uid, type, data)
    return answer(msgspec.Raw(info))


ROUTES = [
    versions,
    version_details,
    get_credentials,
    register_credentials,
    update_credentials,
    unregister,
    receive_cdr,
    get_cdr,
    list_tokens,
    authorize,
]
