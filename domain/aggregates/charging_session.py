"""A charging session's natural key: one per EMP and session_id, whatever the customer.

Saved with the customer's SessionCharged in one transaction, its deterministic id makes a
repeated session collide instead of charging twice. It keeps only what a repeat needs: the
customer and the balance of the first answer, and a digest of the session's data to tell the
same session again from other data under a used session_id; and its EMP, as every stream does
(auditors verify their EMP's streams).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

SESSION_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/sessions")


def session_digest(
    *,
    customer_id: UUID,
    started_at: datetime,
    ended_at: datetime,
    energy_wh: int,
    cost_minor: int,
    location: str | None,
) -> str:
    """The same session data, however its instants were written, gives the same digest."""
    parts = (
        str(customer_id),
        started_at.astimezone(UTC).isoformat(),
        ended_at.astimezone(UTC).isoformat(),
        str(energy_wh),
        str(cost_minor),
        "" if location is None else "=" + location,
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class ChargingSession(Aggregate):
    TOPIC = "chargeledger:ChargingSession"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:ChargingSession.Event"

    class Recorded(Aggregate.Created):
        TOPIC = "chargeledger:ChargingSession.Recorded"
        class_version = 2
        emp_id: UUID
        customer_id: UUID
        balance_after_minor: int
        digest: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 kept a copy of the whole charge; the digest is made from it."""
            state.pop("session_id", None)
            state["digest"] = session_digest(
                customer_id=state["customer_id"],
                started_at=state.pop("started_at"),
                ended_at=state.pop("ended_at"),
                energy_wh=state.pop("energy_wh"),
                cost_minor=state.pop("cost_minor"),
                location=state.pop("location"),
            )

    @staticmethod
    def id_for(emp_id: UUID, session_id: str) -> UUID:
        return uuid5(SESSION_NAMESPACE, f"{emp_id}:{session_id}")

    @event(Recorded)
    def __init__(
        self, *, id: UUID, emp_id: UUID, customer_id: UUID, balance_after_minor: int, digest: str
    ) -> None:
        self.emp_id = emp_id
        self.customer_id = customer_id
        self.balance_after_minor = balance_after_minor
        self.digest = digest
