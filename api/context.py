"""What the API needs from the rest of the service, handed in by the composition root."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from psycopg_pool import ConnectionPool

from api.rate_limit import DEFAULT_RATE_LIMITS, RateLimit
from commands.handlers import handle
from commands.jobs import JobRun
from commands.messages import RecordSession
from commands.session_batcher import SessionBatcher
from commands.unit_of_work import Outcome, Services
from projections.progress import Progress
from projections.worker import WorkerStatus

logger = logging.getLogger(__name__)


@dataclass
class ApiContext:
    services: Services
    pool: ConnectionPool
    progress: Progress
    admin_token: str
    projection_statuses: Callable[[], list[WorkerStatus]]
    run_job: Callable[[str, datetime, str], JobRun]
    database_url: str = ""
    chain_key: bytes | None = None
    write_wait_timeout: float = 10.0
    session_batcher: SessionBatcher | None = None
    # Per role; a role left out is not limited (api/rate_limit.py).
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))

    def execute(self, command: object) -> Outcome:
        """Run a command and return once the read models reflect it (read-your-writes)."""
        if self.session_batcher is not None and isinstance(command, RecordSession):
            outcome = self.session_batcher.submit(command)
        else:
            outcome = handle(command, self.services)
        if not self.progress.wait_for(outcome.position, self.write_wait_timeout):
            logger.error(
                "read models did not reach a write in time",
                extra={"position": outcome.position, "positions": self.progress.positions()},
            )
        return outcome
