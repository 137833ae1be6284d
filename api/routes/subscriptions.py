"""Subscriptions and the packages acquired on them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import emp_only, readers
from api.context import ApiContext
from api.problems import problems
from api.schemas import AcquireIn, IdempotencyKey, SubscriptionIn, SubscriptionOut, SubscriptionPackageOut
from commands.messages import CancelPackage, PurchasePackage, StartSubscription
from domain.errors import NotFound
from projections import queries
from projections.subscriptions import SubscriptionsProjection

# What these routes answer with: the subscriptions read model, which follows the log.
READS = [SubscriptionsProjection.name]


def subscription_out(ctx: ApiContext, emp_id: UUID, subscription_id: UUID) -> SubscriptionOut:
    row = queries.subscription(ctx.pool, emp_id, subscription_id)
    if row is None:
        raise NotFound(f"subscription {subscription_id} not found")
    return SubscriptionOut.from_row(row)


def package_out(
    ctx: ApiContext, emp_id: UUID, subscription_id: UUID, package_id: UUID
) -> SubscriptionPackageOut:
    row = queries.subscription_package(ctx.pool, emp_id, subscription_id, package_id)
    if row is None:
        raise NotFound(f"package {package_id} not found on subscription {subscription_id}")
    return SubscriptionPackageOut.from_row(row)


@post(
    "/v1/subscriptions",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["subscriptions"],
    responses=problems(404, 409, 413, 422),
)
def start_subscription(
    data: JSONBody[SubscriptionIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> SubscriptionOut:
    principal = request.user
    outcome = ctx.execute(
        StartSubscription(
            emp_id=principal.emp_id,
            customer_id=data.customer_id,
            base_package=data.base_package,
            billing_day=data.billing_day,
            actor=principal.actor,
        ),
        reads=READS,
    )
    return subscription_out(ctx, principal.emp_id, outcome.id)


@get(
    "/v1/subscriptions/{subscription_id:uuid}",
    guards=[readers],
    sync_to_thread=True,
    tags=["subscriptions"],
    responses=problems(404),
)
def get_subscription(
    subscription_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> SubscriptionOut:
    return subscription_out(ctx, request.user.emp_id, subscription_id)


@post(
    "/v1/subscriptions/{subscription_id:uuid}/packages",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["subscriptions"],
    responses=problems(402, 404, 409, 413, 422),
)
def acquire_package(
    subscription_id: FromPath[UUID],
    data: JSONBody[AcquireIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> SubscriptionPackageOut:
    principal = request.user
    outcome = ctx.execute(
        PurchasePackage(
            emp_id=principal.emp_id,
            subscription_id=subscription_id,
            package=data.package,
            actor=principal.actor,
            request_key=idempotency_key,
        ),
        reads=READS,
    )
    return package_out(ctx, principal.emp_id, subscription_id, outcome.id)


@delete(
    "/v1/subscriptions/{subscription_id:uuid}/packages/{package_id:uuid}",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=200,
    tags=["subscriptions"],
    responses=problems(404, 422),
)
def cancel_package(
    subscription_id: FromPath[UUID],
    package_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
) -> SubscriptionPackageOut:
    principal = request.user
    ctx.execute(CancelPackage(principal.emp_id, subscription_id, package_id, principal.actor), reads=READS)
    return package_out(ctx, principal.emp_id, subscription_id, package_id)


ROUTES = [start_subscription, get_subscription, acquire_package, cancel_package]
