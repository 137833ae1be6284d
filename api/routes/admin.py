"""Administration with the admin key: EMPs and their API keys."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import admin_only
from api.context import ApiContext
from api.keys import issue_key
from api.problems import problems
from api.schemas import ApiKeyIn, ApiKeyOut, AutoTopUpDefaults, EmpIn, EmpOut, IdempotencyKey
from commands.messages import RegisterEmp
from domain.aggregates.emp import (
    DEFAULT_AUTO_TOP_UP_AMOUNT_MINOR,
    DEFAULT_AUTO_TOP_UP_THRESHOLD_MINOR,
)
from domain.money import check_currency


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
            actor=request.user.actor,
        )
    )
    return EmpOut(
        id=str(outcome.id),
        name=data.name,
        currency=data.currency,
        auto_top_up=defaults,
        vat_rate_bp=data.vat_rate_bp,
    )


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
    ctx.services.ledger.get_emp(emp_id)  # not-found for an unknown EMP
    key = issue_key(ctx.pool, emp_id, data.role)
    return ApiKeyOut(key=key, role=data.role, emp_id=str(emp_id))


ROUTES = [create_emp, create_api_key]
