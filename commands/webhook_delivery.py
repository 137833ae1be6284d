"""Delivers webhook messages: each due delivery is leased, signed (Standard Webhooks) and POSTed
by a pool of threads, at most a few at a time for any one endpoint, so an endpoint that hangs
or fails holds up no other endpoint and no other EMP. A delivery whose worker died is taken up
again when its lease ends: at least once, with the same `webhook-id` every time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

from prometheus_client import Counter, Histogram
from psycopg_pool import PoolClosed

from commands.background import BackgroundWorker
from commands.outbound import send
from commands.webhook_signing import signature_header
from domain.webhooks import RETRY_SCHEDULE, Delivery, next_attempt

logger = logging.getLogger(__name__)

ATTEMPTS = Counter("chargeledger_webhook_attempts", "Webhook delivery attempts", ["outcome"])
LATENCY = Histogram(
    "chargeledger_webhook_delivery_latency_seconds",
    "From an event recorded to its message delivered, per endpoint",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 6 * 3600, 86400, 2 * 86400),
)
ATTEMPT_SECONDS = Histogram(
    "chargeledger_webhook_attempt_seconds",
    "How long one delivery attempt took, answered or not",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)
USER_AGENT = "chargeledger-webhooks/1"


class WebhookOutbox(Protocol):
    def claim_due(
        self, now: datetime, *, limit: int, per_endpoint: int, in_flight: Mapping[UUID, int], lease: timedelta
    ) -> list[Delivery]: ...

    def delivered(self, delivery: Delivery, status: int, now: datetime) -> None: ...

    def not_delivered(
        self, delivery: Delivery, status: int | None, error: str, next_attempt_at: datetime | None
    ) -> None: ...


class WebhookDeliveryWorker(BackgroundWorker):
    thread_name = "webhooks"

    def __init__(
        self,
        outbox: WebhookOutbox,
        *,
        allow_insecure: bool,
        schedule: Sequence[timedelta] = RETRY_SCHEDULE,
        threads: int = 16,
        per_endpoint: int = 4,
        lease: timedelta = timedelta(seconds=20),  # an attempt's 15 s, and a margin
        poll_seconds: float = 0.5,
    ) -> None:
        super().__init__(poll_seconds)
        self.outbox = outbox
        self.allow_insecure = allow_insecure
        self.schedule = tuple(schedule)
        self.threads = threads
        self.per_endpoint = per_endpoint
        self.lease = lease
        self.running = False
        self._in_flight: dict[UUID, int] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="webhook")
        super().start()
        self.running = True

    def stop(self) -> None:
        super().stop()
        if self._pool is not None:
            # A delivery under way ends within its attempt's 15 s; its lease covers the rest.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self.running = False

    def run_once(self) -> int:
        """Claim due deliveries for the free threads until none is due or every thread is busy
        (each delivery that ends wakes the worker)."""
        started = 0
        while not self._stop.is_set() and (claimed := self._claim()):
            started += claimed
        return started

    def _claim(self) -> int:
        with self._lock:
            busy = sum(self._in_flight.values())
            in_flight = dict(self._in_flight)
        deliveries = self.outbox.claim_due(
            datetime.now(UTC),
            limit=self.threads - busy,
            per_endpoint=self.per_endpoint,
            in_flight=in_flight,
            lease=self.lease,
        )
        pool = self._pool
        for delivery in deliveries:
            with self._lock:
                self._in_flight[delivery.endpoint_id] = self._in_flight.get(delivery.endpoint_id, 0) + 1
            if pool is not None:
                pool.submit(self._deliver, delivery)
        return len(deliveries)

    def _deliver(self, delivery: Delivery) -> None:
        try:
            self.attempt(delivery)
        except PoolClosed:
            # The service stopped while this attempt was under way: it is tried again when its
            # lease ends, by whichever process runs then.
            logger.info(
                "webhook delivery interrupted by shutdown; its lease will end", extra=_about(delivery)
            )
        except Exception:
            logger.exception("webhook delivery not recorded; its lease will end", extra=_about(delivery))
        finally:
            with self._lock:
                left = self._in_flight.get(delivery.endpoint_id, 1) - 1
                if left:
                    self._in_flight[delivery.endpoint_id] = left
                else:
                    self._in_flight.pop(delivery.endpoint_id, None)
            self._wake.set()

    def attempt(self, delivery: Delivery) -> None:
        """One attempt, and its outcome recorded."""
        started = time.monotonic()
        timestamp = int(time.time())
        message_id = str(delivery.message_id)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(delivery.secrets, message_id, timestamp, delivery.body),
        }
        status: int | None = None
        try:
            answer = send("POST", delivery.url, delivery.body, headers, allow_insecure=self.allow_insecure)
            status = answer.status
            error = "" if 200 <= status < 300 else f"answered {status}"
        except Exception as failure:  # down, slow, refused, wrong TLS: tried again later
            error = f"{type(failure).__name__}: {failure}"
        now = datetime.now(UTC)
        ATTEMPT_SECONDS.observe(time.monotonic() - started)
        if status is not None and 200 <= status < 300:
            self.outbox.delivered(delivery, status, now)
            ATTEMPTS.labels("delivered").inc()
            LATENCY.observe(max((now - delivery.recorded_at).total_seconds(), 0.0))
            return
        attempts = delivery.attempts + 1
        self.outbox.not_delivered(delivery, status, error, next_attempt(attempts, now, self.schedule))
        ATTEMPTS.labels("failed").inc()
        logger.info("webhook not delivered; tried again later", extra={**_about(delivery), "error": error})


def _about(delivery: Delivery) -> dict[str, str]:
    return {"message_id": str(delivery.message_id), "endpoint_id": str(delivery.endpoint_id)}
