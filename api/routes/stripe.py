"""Cards with Stripe: a card setup for the EMP's front end (Stripe.js), and the endpoint Stripe
sends its events to (docs/payments.md, "Going live with Stripe")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from anyio import to_thread
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.auth import emp_only
from api.context import ApiContext
from api.problems import problems
from commands.messages import StartCardSetup
from commands.unit_of_work import CardSetupStarted
from domain.errors import NotFound, ValidationFailed


class CardSetupOut(msgspec.Struct, frozen=True):
    setup_intent_id: str
    client_secret: str


class StripeEventAck(msgspec.Struct, frozen=True):
    received: bool
    outcome: str


@post(
    "/v1/customers/{customer_id:uuid}/card-setup",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=201,
    tags=["customers"],
    responses=problems(404, 422),
)
def start_card_setup(
    customer_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> CardSetupOut:
    principal = request.user
    started = ctx.execute(StartCardSetup(principal.emp_id, customer_id, principal.actor), CardSetupStarted)
    return CardSetupOut(setup_intent_id=started.setup_intent_id, client_secret=started.client_secret)


@post("/v1/psp/stripe/webhooks", status_code=200, tags=["payments"], responses=problems(404))
async def stripe_webhook(request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]) -> StripeEventAck:
    """No API key: the `Stripe-Signature` header (HMAC-SHA256 with the endpoint's signing
    secret, at most 300 s old) proves the event is Stripe's. A bad signature: 400, nothing
    recorded. Each event is recorded once by its id; a repeat answers 200 and changes nothing."""
    # Imported here: Stripe's SDK costs each process 25 MiB, and most run the simulator.
    import stripe

    from commands.stripe_events import record_stripe_event
    from commands.stripe_gateway import StripeGateway

    gateway = ctx.services.gateway
    if not isinstance(gateway, StripeGateway):
        raise NotFound("no Stripe webhooks here: CHARGELEDGER_PAYMENT_GATEWAY is not stripe")
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("stripe-signature"), gateway.webhook_secret
        )
    except stripe.SignatureVerificationError as error:
        raise ValidationFailed(f"Stripe-Signature: {error.user_message}", field="Stripe-Signature") from None
    except ValueError:
        raise ValidationFailed("the body is not a Stripe event (JSON)", field="body") from None
    outcome = await to_thread.run_sync(record_stripe_event, ctx.services, gateway, event.to_dict())
    return StripeEventAck(received=True, outcome=outcome)


ROUTES = [start_card_setup]
WEBHOOK_ROUTES = [stripe_webhook]
