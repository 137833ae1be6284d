"""A charging session's natural key: one per EMP and session_id, whatever the customer.

Saved with the customer's SessionCharged in one transaction, its deterministic id makes a
repeated session collide instead of charging twice.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

SESSION_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/sessions")


class ChargingSession(Aggregate):
    TOPIC = "chargeledger:ChargingSession"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:ChargingSession.Event"

    class Recorded(Aggregate.Created):
        TOPIC = "chargeledger:ChargingSession.Recorded"
        emp_id: UUID
        session_id: str
        customer_id: UUID
        started_at: datetime
        ended_at: datetime
        energy_wh: int
        cost_minor: int
        location: str | None
        balance_after_minor: int

    @staticmethod
    def create_id(emp_id: UUID, session_id: str) -> UUID:
        return uuid5(SESSION_NAMESPACE, f"{emp_id}:{session_id}")

    @event(Recorded)
    def __init__(
        self,
        emp_id: UUID,
        session_id: str,
        customer_id: UUID,
        started_at: datetime,
        ended_at: datetime,
        energy_wh: int,
        cost_minor: int,
        location: str | None,
        balance_after_minor: int,
    ) -> None:
        self.emp_id = emp_id
        self.session_id = session_id
        self.customer_id = customer_id
        self.started_at = started_at
        self.ended_at = ended_at
        self.energy_wh = energy_wh
        self.cost_minor = cost_minor
        self.location = location
        self.balance_after_minor = balance_after_minor

    def same_data(
        self,
        customer_id: UUID,
        started_at: datetime,
        ended_at: datetime,
        energy_wh: int,
        cost_minor: int,
        location: str | None,
    ) -> bool:
        return (
            self.customer_id,
            self.started_at,
            self.ended_at,
            self.energy_wh,
            self.cost_minor,
            self.location,
        ) == (customer_id, started_at, ended_at, energy_wh, cost_minor, location)
