"""`Idempotency-Key` on POST: the first response is stored and returned again for a repeat.

Same key and same request: the stored status and body, nothing done twice. Same key and another
request: 409 idempotency-conflict. A 5xx is not stored, so the client may retry it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import anyio.to_thread
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from psycopg_pool import ConnectionPool

from api.asgi import read_body, replay, send_problem
from api.keys import Principal

MAX_KEY_LENGTH = 255
CLAIM_ATTEMPTS = 5
IN_PROGRESS_WAIT_SECONDS = 15.0


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # OCPI has its own idempotency (a CDR is recorded once per id) and no API key to scope keys by.
        if scope["type"] != "http" or scope.get("method") != "POST" or scope["path"].startswith("/ocpi/"):
            await self.app(scope, receive, send)
            return
        key = _header(scope, b"idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            await send_problem(
                send,
                scope,
                400,
                "validation-error",
                "The request is not valid",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            )
            return

        body = await read_body(receive)
        user = scope.get("user")
        principal_scope = user.actor if isinstance(user, Principal) else "anonymous"
        fingerprint = hashlib.sha256(
            b"\n".join([scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        pool: ConnectionPool = scope["app"].state.ctx.pool

        stored = None
        for _ in range(CLAIM_ATTEMPTS):
            if await anyio.to_thread.run_sync(_claim, pool, principal_scope, key, fingerprint):
                break
            stored = await anyio.to_thread.run_sync(_stored, pool, principal_scope, key)
            if stored is not None:
                break
            # The holder failed (5xx) and released the key: try to take it ourselves.
        else:
            await send_problem(
                send, scope, 409, "idempotency-conflict", "Idempotency-Key in use",
                "requests with this Idempotency-Key keep failing; retry later",
            )  # fmt: skip
            return
        if stored is not None:
            if stored[0] != fingerprint:
                await send_problem(
                    send,
                    scope,
                    409,
                    "idempotency-conflict",
                    "Idempotency-Key reused",
                    "this Idempotency-Key was used for another request",
                )
                return
            if stored[1] is None:
                await send_problem(
                    send,
                    scope,
                    409,
                    "idempotency-conflict",
                    "Idempotency-Key in use",
                    "a request with this Idempotency-Key is still being processed",
                )
                return
            await _replay(send, stored)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def capturing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay(body), capturing_send)
        finally:
            status = captured["status"]
            if status >= 500:
                await anyio.to_thread.run_sync(_release, pool, principal_scope, key)
            else:
                content_type = _content_type(captured["headers"])
                await anyio.to_thread.run_sync(
                    _complete, pool, principal_scope, key, status, content_type, captured["body"]
                )


def _claim(pool: ConnectionPool, scope: str, key: str, fingerprint: str) -> bool:
    with pool.connection() as conn:
        row = conn.execute(
            "INSERT INTO idempotency_records (scope, idempotency_key, request_sha256)"
            " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (scope, key, fingerprint),
        ).fetchone()
    return row is not None


def _stored(pool: ConnectionPool, scope: str, key: str) -> tuple[Any, ...] | None:
    """The record, waiting a while for one still in progress to complete."""
    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    while True:
        with pool.connection() as conn:
            row = conn.execute(
                "SELECT request_sha256, status_code, content_type, body FROM idempotency_records"
                " WHERE scope = %s AND idempotency_key = %s",
                (scope, key),
            ).fetchone()
        if row is None or row[1] is not None or time.monotonic() > deadline:
            return row
        time.sleep(0.02)


def _complete(
    pool: ConnectionPool, scope: str, key: str, status: int, content_type: str, body: bytes
) -> None:
    with pool.connection() as conn:
        conn.execute(
            "UPDATE idempotency_records SET status_code = %s, content_type = %s, body = %s,"
            " completed_at = now() WHERE scope = %s AND idempotency_key = %s",
            (status, content_type, body, scope, key),
        )


def _release(pool: ConnectionPool, scope: str, key: str) -> None:
    with pool.connection() as conn:
        conn.execute(
            "DELETE FROM idempotency_records WHERE scope = %s AND idempotency_key = %s",
            (scope, key),
        )


async def _replay(send: Send, stored: tuple[Any, ...]) -> None:
    _, status, content_type, body = stored
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"idempotent-replayed", b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": bytes(body), "more_body": False})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


def _content_type(headers: list[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key.lower() == b"content-type":
            return str(value.decode("latin-1"))
    return "application/json"
