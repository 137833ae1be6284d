"""Webhook deliveries: what one attempt sends, and when a message is tried again.

A message is sent at once, then, while its receiver does not answer 2xx within 15 s, again
after each wait of RETRY_SCHEDULE (with up to a tenth of jitter): 8 attempts over 27 h 35 min;
after the last it is failed. A manual retry sends it once more whatever its state."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)


@dataclass(frozen=True)
class Delivery:
    """One attempt to send a message to one endpoint."""

    message_id: UUID
    endpoint_id: UUID
    url: str
    secrets: list[str]  # every secret that signs it now (two for a day after a rotation)
    body: bytes
    attempts: int  # made before this one
    recorded_at: datetime  # when its event was recorded: the delivery latency counts from it


def next_attempt(
    attempts: int,
    now: datetime,
    schedule: tuple[timedelta, ...] = RETRY_SCHEDULE,
    jitter: random.Random | None = None,
) -> datetime | None:
    """When a message that has now failed `attempts` times is tried again; None after the last."""
    if attempts > len(schedule):
        return None
    wait = schedule[attempts - 1]
    spread = (jitter or random).uniform(-0.1, 0.1) * wait.total_seconds()
    return now + wait + timedelta(seconds=spread)
