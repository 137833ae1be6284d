"""What the API needs from the rest of the service, handed in by the composition root."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from psycopg_pool import ConnectionPool

from api.keys import VerifiedKeys
from api.rate_limit import DEFAULT_RATE_LIMITS, RateLimit
from commands.handlers import handle
from commands.jobs import JobRun
from commands.messages import RecordSession
from commands.session_batcher import SessionBatcher
from commands.unit_of_work import Outcome, Services
from projections.progress import Progress
from projections.worker import WorkerStatus

logger = logging.getLogger(__name__)

# How long a session waits for its batch to be saved (the database's own timeouts come first).
SAVE_TIMEOUT = 30.0


@dataclass
class ApiContext:
    services: Services
    pool: ConnectionPool
    progress: Progress
    admin_token: str
    projection_statuses: Callable[[], list[WorkerStatus]]
    run_job: Callable[[str, datetime, str], JobRun]
    # Sessions are recorded through it, many to a transaction (group commit).
    session_batcher: SessionBatcher
    database_url: str = ""
    chain_key: bytes | None = None
    write_wait_timeout: float = 10.0
    # Keys verified a moment ago: most requests authenticate without a database round trip.
    verified_keys: VerifiedKeys = field(default_factory=VerifiedKeys)
    # Per role; a role left out is not limited (api/rate_limit.py).
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))

    def execute(self, command: object) -> Outcome:
        """Run a command and return once the read models reflect it (read-your-writes)."""
        outcome = handle(command, self.services)
        if not self.progress.wait_for(outcome.position, self.write_wait_timeout):
            self._read_models_late(outcome)
        return outcome

    async def record_session(self, command: RecordSession) -> Outcome:
        """`execute` for a session, without holding a thread while the batch is saved and the
        read models catch up: many clients post at once, and their sessions share batches."""
        batcher = self.session_batcher
        with batcher.client():  # the batcher counts a client until its answer is ready
            saved = asyncio.wrap_future(batcher.enqueue(command))
            outcome = await asyncio.wait_for(saved, SAVE_TIMEOUT)
            await self._wait_for_read_models(outcome)
        return outcome

    async def _wait_for_read_models(self, outcome: Outcome) -> None:
        if not await self.progress.wait_for_async(outcome.position, self.write_wait_timeout):
            self._read_models_late(outcome)

    def _read_models_late(self, outcome: Outcome) -> None:
        logger.error(
            "read models did not reach a write in time",
            extra={"position": outcome.position, "positions": self.progress.positions()},
        )
