"""An event a payment service provider (Stripe) sent to the webhook endpoint, recorded once by
its id together with what it changed: a repeat collides with it and changes nothing."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

PSP_EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/psp-events")


class PspEvent(Aggregate):
    TOPIC = "chargeledger:PspEvent"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:PspEvent.Event"

    class Received(Aggregate.Created):
        TOPIC = "chargeledger:PspEvent.Received"
        provider: str  # "stripe"
        event_id: str  # the provider's (evt_...)
        type: str  # payment_intent.succeeded, setup_intent.succeeded, ...
        outcome: str  # what it did: "recorded" (it changed the ledger) or why it did not

    @staticmethod
    def create_id(provider: str, event_id: str) -> UUID:
        return uuid5(PSP_EVENT_NAMESPACE, f"{provider}:{event_id}")

    @event(Received)
    def __init__(self, *, provider: str, event_id: str, type: str, outcome: str) -> None:
        self.provider = provider
        self.event_id = event_id
        self.type = type
        self.outcome = outcome
