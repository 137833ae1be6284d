"""Events Stripe sends to the webhook endpoint (signature checked by the route): each recorded
once by its id, with what it changed, in one transaction. They may come late, twice and in any
order: a payment's first outcome wins, and a card setup superseded by a newer card request
stores nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from commands.card_payments import record_charge_outcome
from commands.dunning import retry_overdue_debits
from commands.stripe_gateway import CUSTOMER_ID, EMP_ID, PAYMENT_ID, StripeGateway, result_of
from commands.unit_of_work import Services
from domain.aggregates import PspEvent
from domain.aggregates.customer import PaymentCard
from domain.cards import check_not_expired
from domain.errors import ValidationFailed

ACTOR = "psp:stripe"
PROVIDER = "stripe"
PAYMENT_OUTCOMES = ("payment_intent.succeeded", "payment_intent.payment_failed")


def record_stripe_event(services: Services, gateway: StripeGateway, event: dict[str, Any]) -> str:
    """What the event did: recorded, repeat, or why it changed nothing."""
    event_id, kind = str(event["id"]), str(event["type"])
    if services.ledger.find_psp_event(PROVIDER, event_id) is not None:
        return "repeat"
    obj: dict[str, Any] = event["data"]["object"]
    try:
        if kind in PAYMENT_OUTCOMES:
            return _payment_outcome(services, event_id, kind, obj)
        if kind == "setup_intent.succeeded":
            return _card_set_up(services, gateway, event_id, kind, obj)
        return _record(services, event_id, kind, "ignored")
    except IntegrityError:  # the same event, delivered twice at once
        return "repeat"


def _record(services: Services, event_id: str, kind: str, outcome: str, *changed: Any) -> str:
    services.ledger.save(*changed, _event(event_id, kind, outcome))
    return outcome


def _event(event_id: str, kind: str, outcome: str) -> PspEvent:
    return PspEvent(provider=PROVIDER, event_id=event_id, type=kind, outcome=outcome)


def _payment_outcome(services: Services, event_id: str, kind: str, intent: dict[str, Any]) -> str:
    metadata = intent.get("metadata") or {}
    if not {PAYMENT_ID, CUSTOMER_ID, EMP_ID} <= set(metadata):
        return _record(services, event_id, kind, "not a ledger payment")
    status = "succeeded" if kind == "payment_intent.succeeded" else "requires_payment_method"
    result = result_of(intent["id"], status, intent.get("last_payment_error"))
    completed = record_charge_outcome(
        services,
        UUID(metadata[EMP_ID]),
        UUID(metadata[CUSTOMER_ID]),
        UUID(metadata[PAYMENT_ID]),
        result,
        ACTOR,
        also=[_event(event_id, kind, "recorded")],
    )
    return "recorded" if completed.created else "late: the payment's outcome was recorded before"


def _card_set_up(
    services: Services, gateway: StripeGateway, event_id: str, kind: str, setup: dict[str, Any]
) -> str:
    awaited = gateway.setup_awaited(str(setup["id"]))
    method = setup.get("payment_method")
    if awaited is None or not method:
        return _record(services, event_id, kind, "superseded by a newer card, or not a ledger setup")
    emp_id, customer_id = awaited
    method_id = method if isinstance(method, str) else str(method["id"])
    details = gateway.card_details(method_id)
    try:
        check_not_expired(details.exp_month, details.exp_year, services.now_for(emp_id))
    except ValidationFailed:
        return _record(services, event_id, kind, "expired card: not stored")
    customer = services.ledger.get_customer(customer_id, emp_id)
    card = PaymentCard(method_id, details.brand, details.last4, details.exp_month, details.exp_year)
    now = services.now_for(emp_id)
    customer.store_payment_card(card, occurred_at=now, caused_by=ACTOR)
    outcome = _record(services, event_id, kind, "recorded", customer)
    # A new card pays what is overdue right away, as one stored through the API does.
    retry_overdue_debits(services, customer, now, f"new-card:{customer.version}", ACTOR)
    return outcome
