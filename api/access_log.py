"""One access log line per request: method, path (no query: it may hold personal data such
as an e-mail filter), status, duration and client address."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("chargeledger.access")
STARTED = "chargeledger.access.started"
STATUS = "chargeledger.access.status"


class AccessClock:
    """ASGI middleware, the first: notes when the request came in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[STARTED] = time.perf_counter()  # type: ignore[literal-required]
        await self.app(scope, receive, send)


async def log_access(message: Message, scope: Scope) -> None:
    """Litestar's before_send hook: it sees every answer, also those that the exception
    handlers around the middleware made (a 401 from authentication, say)."""
    raw: dict[str, Any] = scope  # type: ignore[assignment]
    if message["type"] == "http.response.start":
        raw[STATUS] = message["status"]
        return
    if message["type"] != "http.response.body" or message.get("more_body", False) or STATUS not in raw:
        return
    started = raw.pop(STARTED, None)
    status = raw.pop(STATUS)
    method, path, client = raw.get("method"), raw["path"], raw.get("client")
    logger.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": None if started is None else round((time.perf_counter() - started) * 1000, 1),
            "client": client[0] if client else None,
        },
    )
