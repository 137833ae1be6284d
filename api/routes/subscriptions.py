"""Subscriptions and the packages acquired on them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import emp_only, readers
from api.context import ApiContext
from api.problems import problems
from api.schemas import (
    AcquireIn,
    BasePackageChangeIn,
    IdempotencyKey,
    SubscriptionEndIn,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPackageOut,
    SubscriptionPage,
)
from commands.messages import (
    CancelPackage,
    ChangeBasePackage,
    EndSubscription,
    PurchasePackage,
    StartSubscription,
)
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
            started_at=data.started_at,
        ),
        reads=READS,
    )
    return subscription_out(ctx, principal.emp_id, outcome.id)


@get(
    "/v1/subscriptions",
    guards=[readers],
    sync_to_thread=True,
    tags=["subscriptions"],
    responses=problems(404),
)
def list_subscriptions(
    customer_id: FromQuery[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> SubscriptionPage:
    """A customer's subscriptions, oldest first (one at a time: the next starts after the last ended)."""
    emp_id = request.user.emp_id
    ctx.services.ledger.get_customer(customer_id, emp_id)  # not-found for another EMP's customer
    rows = queries.customer_subscriptions(ctx.pool, emp_id, customer_id)
    return SubscriptionPage([SubscriptionOut.from_row(row) for row in rows])


@post(
    "/v1/subscriptions/{subscription_id:uuid}/end",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=200,
    tags=["subscriptions"],
    responses=problems(404, 409, 413, 422),
)
def end_subscription(
    subscription_id: FromPath[UUID],
    data: JSONBody[SubscriptionEndIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> SubscriptionOut:
    """Recurring packages stop at `at`; a postpaid subscription's last period runs to it and is
    invoiced, prorated, by the first Invoice Production run at or after it."""
    principal = request.user
    ctx.execute(EndSubscription(principal.emp_id, subscription_id, data.at, principal.actor), reads=READS)
    return subscription_out(ctx, principal.emp_id, subscription_id)


@post(
    "/v1/subscriptions/{subscription_id:uuid}/base-package",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=200,
    tags=["subscriptions"],
    responses=problems(404, 409, 413, 422),
)
def change_base_package(
    subscription_id: FromPath[UUID],
    data: JSONBody[BasePackageChangeIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> SubscriptionOut:
    """The base package changes at `at`: in that period the old one counts the days before the
    change day, the new one the days from it."""
    principal = request.user
    command = ChangeBasePackage(principal.emp_id, subscription_id, data.package, data.at, principal.actor)
    ctx.execute(command, reads=READS)
    return subscription_out(ctx, principal.emp_id, subscription_id)


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


ROUTES = [
    start_subscription,
    list_subscriptions,
    get_subscription,
    end_subscription,
    change_base_package,
    acquire_package,
    cancel_package,
]
