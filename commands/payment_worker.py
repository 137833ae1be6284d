"""Completes requested card payments: automatic top-ups at once, and any other payment whose
requester died between the intent and the outcome. Completion is idempotent, so running
several workers, or completing one payment twice, charges and credits once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from commands.background import BackgroundWorker
from commands.card_payments import complete_card_payment
from commands.messages import CompleteCardPayment
from commands.unit_of_work import Services

logger = logging.getLogger(__name__)

ACTOR = "process:card-payments"


class PendingPaymentWorker(BackgroundWorker):
    thread_name = "card-payments"

    def __init__(
        self,
        services: Services,
        pending: Callable[[datetime], list[tuple[UUID, UUID]]],
        *,
        recovery_after: timedelta = timedelta(seconds=30),
        poll_seconds: float = 0.5,
    ) -> None:
        super().__init__(poll_seconds)
        self.services = services
        self.pending = pending
        self.recovery_after = recovery_after
        self.completed = 0
        self.failures = 0

    def run_once(self) -> int:
        """Complete what is pending now; return how many payments were completed."""
        done = 0
        cutoff = self.services.clock.now() - self.recovery_after
        for customer_id, payment_id in self.pending(cutoff):
            try:
                complete_card_payment(CompleteCardPayment(customer_id, payment_id, ACTOR), self.services)
                done += 1
            except Exception:
                self.failures += 1
                logger.exception(
                    "card payment not completed; will retry",
                    extra={"customer_id": str(customer_id), "payment_id": str(payment_id)},
                )
        self.completed += done
        return done
