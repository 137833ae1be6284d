"""A card payment's natural-key guard: one per payment id, created with the intent and closed
with its outcome in the same transactions as the customer's events.

Payment ids are derived from what must be paid once (a request's Idempotency-Key, a debit's
attempt, the customer's version for an automatic top-up). The guard makes a second request of
the same id collide instead of charging again, and answers a repeat with the first outcome long
after the customer has forgotten the payment (its pending payments hold only pending ones)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

APPROVED = "approved"
DECLINED = "declined"


class CardPayment(Aggregate):
    TOPIC = "chargeledger:CardPayment"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:CardPayment.Event"

    class Requested(Aggregate.Created):
        TOPIC = "chargeledger:CardPayment.Requested"
        emp_id: UUID
        customer_id: UUID
        purpose: str

    class Closed(Event):
        TOPIC = "chargeledger:CardPayment.Closed"
        outcome: str
        charge_id: str

        def apply(self, aggregate: CardPayment) -> None:
            aggregate.outcome = self.outcome
            aggregate.charge_id = self.charge_id

    @event(Requested)
    def __init__(self, *, id: UUID, emp_id: UUID, customer_id: UUID, purpose: str) -> None:
        self.emp_id = emp_id
        self.customer_id = customer_id
        self.purpose = purpose
        self.outcome: str | None = None
        self.charge_id: str | None = None

    def close(self, *, approved: bool, charge_id: str) -> None:
        self.trigger_event(self.Closed, outcome=APPROVED if approved else DECLINED, charge_id=charge_id)
