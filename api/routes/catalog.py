"""The EMP's package catalog."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody

from api.auth import emp_only, readers
from api.context import ApiContext
from api.pagination import Limit, cursor_after, decode_cursor, text
from api.problems import problems
from api.schemas import IdempotencyKey, PackageIn, PackageOut, PackagePage
from commands.messages import DefinePackage
from domain.errors import NotFound
from projections import queries
from projections.subscriptions import SubscriptionsProjection


@post(
    "/v1/packages",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["catalog"],
    responses={
        **problems(409, 413, 422),
        200: ResponseSpec(PackageOut, description="the same package again: nothing new recorded"),
    },
)
def define_package(
    data: JSONBody[PackageIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> Response[PackageOut]:
    principal = request.user
    outcome = ctx.execute(
        DefinePackage(
            emp_id=principal.emp_id,
            code=data.code,
            name=data.name,
            kind=data.kind,
            recurring=data.recurring,
            payment=data.payment,
            price_minor=data.price_minor,
            actor=principal.actor,
        ),
        reads=[SubscriptionsProjection.name],
    )
    row = queries.package_by_code(ctx.pool, principal.emp_id, data.code)
    if row is None:
        raise NotFound(f"package {data.code!r} not found")
    return Response(PackageOut.from_row(row), status_code=201 if outcome.created else 200)


@get("/v1/packages", guards=[readers], sync_to_thread=True, tags=["catalog"], responses=problems())
def list_packages(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> PackagePage:
    after = decode_cursor(cursor, text)[0] if cursor else None
    rows = queries.packages_page(ctx.pool, request.user.emp_id, limit=limit + 1, after=after)
    items = [PackageOut.from_row(row) for row in rows[:limit]]
    next_cursor = cursor_after(rows, limit, "code")
    return PackagePage(items=items, next_cursor=next_cursor)


ROUTES = [define_package, list_packages]
