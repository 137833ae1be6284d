"""Administration with the admin key: EMPs and their API keys."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import admin_only
from api.context import ApiContext
from api.keys import keys_page, new_key, revoke_key
from api.pagination import Limit, cursor_after, decode_cursor, encode_cursor, identifier, instant
from api.problems import forbidden, problems
from api.schemas import (
    AdvancedJobRunOut,
    ApiKeyIn,
    ApiKeyInfo,
    ApiKeyOut,
    ApiKeyPage,
    AutoTopUpDefaults,
    EmpIn,
    EmpOut,
    EmpPage,
    EmpPatch,
    IdempotencyKey,
    TestClockAdvanceIn,
    TestClockAdvanceOut,
)
from commands.messages import ChangeEmp, RegisterEmp
from domain.aggregates.emp import (
    DEFAULT_AUTO_TOP_UP_AMOUNT_MINOR,
    DEFAULT_AUTO_TOP_UP_THRESHOLD_MINOR,
)
from domain.errors import NotFound
from domain.money import check_currency
from projections import queries


@post(
    "/v1/emps",
    guards=[admin_only],
    sync_to_thread=True,
    status_code=201,
    tags=["administration"],
    responses=problems(409, 413),
)
def create_emp(
    data: JSONBody[EmpIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> EmpOut:
    """An EMP, in its time zone (calendar months, billing days and proration days are its
    local ones), and on a test clock if one is given."""
    check_currency(data.currency)
    defaults = data.auto_top_up or AutoTopUpDefaults(
        threshold_minor=DEFAULT_AUTO_TOP_UP_THRESHOLD_MINOR,
        amount_minor=DEFAULT_AUTO_TOP_UP_AMOUNT_MINOR,
    )
    outcome = ctx.execute(
        RegisterEmp(
            name=data.name,
            currency=data.currency,
            auto_top_up_threshold_minor=defaults.threshold_minor,
            auto_top_up_amount_minor=defaults.amount_minor,
            vat_rate_bp=data.vat_rate_bp,
            time_zone=data.time_zone,
            test_clock_now=None if data.test_clock is None else data.test_clock.now,
            ocpi_country_code=None if data.ocpi is None else data.ocpi.country_code.upper(),
            ocpi_party_id=None if data.ocpi is None else data.ocpi.party_id.upper(),
            actor=request.user.actor,
        )
    )
    return EmpOut.of(ctx.services.ledger.get_emp(outcome.id))


@get("/v1/emps", guards=[admin_only], sync_to_thread=True, tags=["administration"], responses=problems())
def list_emps(
    ctx: NamedDependency[ApiContext], limit: Limit = 50, cursor: FromQuery[str | None] = None
) -> EmpPage:
    """Every EMP, oldest first, each as GET /v1/emps/{emp_id} shows it."""
    after = tuple(decode_cursor(cursor, instant, identifier)) if cursor else None
    rows = queries.emps_page(ctx.pool, limit=limit + 1, after=after)  # type: ignore[arg-type]
    items = [EmpOut.of(ctx.services.ledger.get_emp(emp_id)) for emp_id, _ in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last_id, last_created = rows[limit - 1]
        next_cursor = encode_cursor(last_created.isoformat(), str(last_id))
    return EmpPage(items=items, next_cursor=next_cursor)


def own_emp(request: Request[Any, Any, Any], emp_id: UUID) -> None:
    """The admin key reaches every EMP, another key only its own (another is not found)."""
    principal = request.user
    if not principal.is_admin and principal.emp_id != emp_id:
        raise NotFound(f"EMP {emp_id} not found")


@get("/v1/emps/{emp_id:uuid}", sync_to_thread=True, tags=["administration"], responses=problems(404))
def get_emp(
    emp_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> EmpOut:
    """Every setting of the EMP (admin key, or any key of the EMP itself)."""
    own_emp(request, emp_id)
    return EmpOut.of(ctx.services.ledger.get_emp(emp_id))


@patch(
    "/v1/emps/{emp_id:uuid}",
    guards=[admin_only],
    sync_to_thread=True,
    tags=["administration"],
    responses=problems(404, 413, 422),
)
def change_emp(
    emp_id: FromPath[UUID],
    data: JSONBody[EmpPatch],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
) -> EmpOut:
    """A new time zone applies from each subscription's next period; a new VAT rate to the
    invoices issued after the change."""
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("name", data.name),
            ("time_zone", data.time_zone),
            ("vat_rate_bp", data.vat_rate_bp),
        )
        if value is not None
    }
    if data.ocpi is not None:
        changes["ocpi_country_code"] = data.ocpi.country_code.upper()
        changes["ocpi_party_id"] = data.ocpi.party_id.upper()
    if data.seller is not None:
        changes["seller"] = msgspec.to_builtins(data.seller)
    if data.invoice_delivery is not None:
        changes["invoice_delivery"] = data.invoice_delivery
    if data.dunning is not msgspec.UNSET:
        changes["dunning"] = None if data.dunning is None else msgspec.to_builtins(data.dunning)
    if data.auto_top_up is not None:
        changes["auto_top_up_threshold_minor"] = data.auto_top_up.threshold_minor
        changes["auto_top_up_amount_minor"] = data.auto_top_up.amount_minor
    ctx.execute(ChangeEmp(emp_id, changes, request.user.actor))
    return EmpOut.of(ctx.services.ledger.get_emp(emp_id))


@post(
    "/v1/emps/{emp_id:uuid}/test-clock/advance",
    sync_to_thread=True,
    status_code=200,
    tags=["administration"],
    responses=problems(404, 409, 413, 422),
)
def advance_test_clock(
    emp_id: FromPath[UUID],
    data: JSONBody[TestClockAdvanceIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> TestClockAdvanceOut:
    """Move the EMP's test clock forward (admin key, or the EMP's emp key); with `run_jobs`
    (the default) each batch job runs for this EMP at every scheduled instant passed."""
    principal = request.user
    own_emp(request, emp_id)
    if not (principal.is_admin or principal.role == "emp"):
        raise forbidden("moving a test clock needs the admin key or a key with role emp")
    now, runs = ctx.advance_test_clock(emp_id, data.to, data.run_jobs, principal.actor)
    return TestClockAdvanceOut(now, [AdvancedJobRunOut(run.job, run.as_of, run.processed) for run in runs])


@post(
    "/v1/emps/{emp_id:uuid}/api-keys",
    guards=[admin_only],
    sync_to_thread=True,
    status_code=201,
    tags=["administration"],
    responses=problems(404, 409, 413),
)
def create_api_key(
    emp_id: FromPath[UUID],
    data: JSONBody[ApiKeyIn],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> ApiKeyOut:
    """The key is in this answer only. `name` says who holds it: what its holder does is
    signed `api-key:<id> (<name>)` in every history."""
    ctx.services.ledger.get_emp(emp_id)  # not-found for an unknown EMP
    row = new_key(ctx.pool, emp_id, data.role, data.name)
    return ApiKeyOut(
        key=row["key"],
        role=row["role"],
        emp_id=str(emp_id),
        id=str(row["id"]),
        name=row["name"],
        created_at=row["created_at"],
    )


@get(
    "/v1/emps/{emp_id:uuid}/api-keys",
    guards=[admin_only],
    sync_to_thread=True,
    tags=["administration"],
    responses=problems(404),
)
def list_api_keys(
    emp_id: FromPath[UUID],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> ApiKeyPage:
    """The EMP's keys that work, oldest first, without the keys themselves: who holds each,
    and when it was last used (to the minute)."""
    ctx.services.ledger.get_emp(emp_id)  # not-found for an unknown EMP
    after = tuple(decode_cursor(cursor, instant, identifier)) if cursor else None
    rows = keys_page(ctx.pool, emp_id, limit=limit + 1, after=after)  # type: ignore[arg-type]
    items = [ApiKeyInfo.from_row(row) for row in rows[:limit]]
    next_cursor = cursor_after(rows, limit, "created_at", "id")
    return ApiKeyPage(items=items, next_cursor=next_cursor)


@delete(
    "/v1/emps/{emp_id:uuid}/api-keys/{key_id:uuid}",
    guards=[admin_only],
    sync_to_thread=True,
    tags=["administration"],
    responses=problems(404),
)
def revoke_api_key(emp_id: FromPath[UUID], key_id: FromPath[UUID], ctx: NamedDependency[ApiContext]) -> None:
    """The key stops working at once, in every process: its next request is 401."""
    if not revoke_key(ctx.pool, emp_id, key_id):
        raise NotFound(f"API key {key_id} not found")
    ctx.verified_keys.forget(str(key_id))  # here at once; the other processes hear the NOTIFY


ROUTES = [
    create_emp,
    list_emps,
    get_emp,
    change_emp,
    advance_test_clock,
    create_api_key,
    list_api_keys,
    revoke_api_key,
]
