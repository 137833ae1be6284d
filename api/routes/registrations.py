"""The registration site's one-step flow: customer, card, consent, subscription."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.auth import emp_only
from api.context import ApiContext
from api.problems import problems
from api.routes.customers import customer_out
from api.routes.subscriptions import subscription_out
from api.schemas import IdempotencyKey, RegistrationIn, RegistrationOut
from commands.messages import Register
from commands.unit_of_work import Registered
from projections.subscriptions import SubscriptionsProjection


@post(
    "/v1/registrations",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=201,
    tags=["customers"],
    responses=problems(402, 404, 409, 413, 422),
)
def register(
    data: JSONBody[RegistrationIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> RegistrationOut:
    principal = request.user
    card = data.card.card() if data.card else None
    outcome = ctx.execute(
        Register(
            emp_id=principal.emp_id,
            name=data.name,
            email=data.email,
            account_type=data.account_type,
            card=card,
            auto_top_up=data.auto_top_up,
            base_package=data.base_package,
            actor=principal.actor,
        ),
        Registered,
        reads=[SubscriptionsProjection.name] if data.base_package else [],
    )
    subscription_id = outcome.subscription_id
    return RegistrationOut(
        customer=customer_out(ctx, principal.emp_id, outcome.id),
        subscription=subscription_out(ctx, principal.emp_id, subscription_id) if subscription_id else None,
    )


ROUTES = [register]
