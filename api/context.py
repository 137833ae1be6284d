"""What the API needs from the rest of the service, handed in by the composition root."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, overload
from uuid import UUID

from prometheus_client import Counter
from psycopg_pool import ConnectionPool

from api.rate_limit import DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_RATE_LIMITS, AuthFailures, RateLimit
from api.verified_keys import VerifiedKeys
from commands.handlers import handle
from commands.jobs import JobRun
from commands.messages import RecordSession
from commands.session_batcher import SessionBatcher
from commands.sessions import SessionAnswer
from commands.unit_of_work import Outcome, Services
from domain.errors import DomainError
from projections.pipeline import ProjectionStatus
from projections.progress import Progress

logger = logging.getLogger(__name__)

# How long a session waits for its batch to be recorded (the database's own timeouts come first).
SAVE_TIMEOUT = 30.0
T = TypeVar("T", bound=Outcome)


SESSION_ANSWERS = Counter(
    "chargeledger_session_requests",
    "Sessions posted to this process, by outcome: recorded, repeated (recorded before) or the"
    " problem code of a refusal",
    ["outcome"],
)


def count_session_answers(answers: Sequence[SessionAnswer]) -> None:
    for answer in answers:
        if isinstance(answer, DomainError):
            outcome = answer.code
        else:
            outcome = "recorded" if answer.created else "repeated"
        SESSION_ANSWERS.labels(outcome).inc()


@dataclass
class ApiContext:
    services: Services
    pool: ConnectionPool
    progress: Progress
    admin_token: str
    projection_statuses: Callable[[], list[ProjectionStatus]]
    # job, as_of, triggered_by, emp_id (None: every EMP on the real clock)
    run_job: Callable[[str, datetime, str, UUID | None], JobRun]
    # emp_id, to, run_jobs, actor -> the clock's time and the job runs
    advance_test_clock: Callable[[UUID, datetime, bool, str], tuple[datetime, list[JobRun]]]
    # Sessions posted one by one are recorded through it, many to a transaction (group commit).
    session_batcher: SessionBatcher
    database_url: str = ""
    chain_key: bytes | None = None
    write_wait_timeout: float = 10.0
    # Keys verified a moment ago: most requests authenticate without a database round trip.
    verified_keys: VerifiedKeys = field(default_factory=VerifiedKeys)
    # Per role; a role left out is not limited (api/rate_limit.py).
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    # Failed authentications per client address (None: not limited).
    auth_failures: AuthFailures = field(default_factory=lambda: AuthFailures(DEFAULT_AUTH_FAILURE_LIMIT))
    # CHARGELEDGER_ALLOW_INSECURE_OUTBOUND: http:// and private addresses allowed (development, tests).
    allow_insecure_outbound: bool = False
    # CHARGELEDGER_PUBLIC_URL: the start of every URL handed to OCPI peers (None: the address
    # the server listens on).
    public_url: str | None = None
    # Tells the webhook delivery worker (where it runs here) that a delivery is due now.
    wake_webhooks: Callable[[], None] = lambda: None
    # Webhook deliveries by state, and whether a worker delivers in this process.
    webhook_deliveries: Callable[[], dict[str, Any]] = lambda: {"running": None, "deliveries": {}}

    @overload
    def execute(self, command: object, *, reads: Collection[str] = ()) -> Outcome: ...

    @overload
    def execute(self, command: object, result: type[T], *, reads: Collection[str] = ()) -> T: ...

    def execute(
        self, command: object, result: type[Outcome] = Outcome, *, reads: Collection[str] = ()
    ) -> Outcome:
        """Run a command. The inline read models reflect it when it returns; `reads` names the
        asynchronous ones the answer or the next read depends on, and they are waited for
        (read-your-writes)."""
        outcome = handle(command, self.services)
        if reads and not self.progress.wait_for(outcome.position, self.write_wait_timeout, reads):
            logger.error(
                "read models did not reach a write in time",
                extra={"position": outcome.position, "positions": self.progress.positions()},
            )
        if not isinstance(outcome, result):
            raise TypeError(
                f"{type(command).__name__} answered {type(outcome).__name__}, not {result.__name__}"
            )
        return outcome

    async def record_session(self, command: RecordSession) -> SessionAnswer:
        """A session through the batcher, awaited on the event loop: many clients post at once,
        and their sessions share transactions."""
        recorded = asyncio.wrap_future(self.session_batcher.enqueue(command))
        answer = await asyncio.wait_for(recorded, SAVE_TIMEOUT)
        count_session_answers([answer])
        return answer

    async def record_sessions(self, commands: Sequence[RecordSession]) -> list[SessionAnswer]:
        """Sessions of one bulk request, through the same writer as single ones."""
        recorded = [
            asyncio.wrap_future(future) for future in self.session_batcher.enqueue_all(list(commands))
        ]
        answers = list(await asyncio.wait_for(asyncio.gather(*recorded), SAVE_TIMEOUT))
        count_session_answers(answers)
        return answers
