"""OCPI's transport rules, in one place: the response envelope and its status codes, the
`Authorization: Token` header (base64 or raw), X-Request-ID / X-Correlation-ID echoed, JSON
numbers read as exact decimals, and every error under /ocpi/ answered as an envelope."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, Send
from psycopg_pool import ConnectionPool

from api.asgi import MAX_BODY_BYTES
from api.problems import MalformedJson
from commands.ocpi_peer import PeerUnreachable
from domain.errors import DomainError, MethodNotAllowed, NotFound

logger = logging.getLogger(__name__)

PREFIX = "/ocpi/"
SUCCESS = 1000
CLIENT_ERROR = 2000
INVALID_PARAMETERS = 2001
UNKNOWN_TOKEN = 2004
SERVER_ERROR = 3000
UNABLE_TO_USE_CLIENT_API = 3001
MEDIA_TYPE = "application/json"
# Answers numbers as JSON numbers (a Decimal goes out as its exact digits, not a string).
ENCODER = msgspec.json.Encoder(decimal_format="number")


def is_ocpi(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_utc(value: datetime) -> datetime:
    """OCPI: an instant without a zone designator is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class OcpiError(Exception):
    """A refusal in OCPI's terms: its status code, message and HTTP status (200 for a
    well-formed request the OCPI layer refuses, as the specification says)."""

    def __init__(self, status_code: int, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.status_code, self.message, self.http_status = status_code, message, http_status


def envelope(status_code: int = SUCCESS, data: Any = None, message: str | None = None) -> bytes:
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["status_code"] = status_code
    if message:
        body["status_message"] = message
    body["timestamp"] = timestamp()
    return ENCODER.encode(body)


def answer(
    data: Any = None, *, status: int = 200, headers: dict[str, str] | None = None, message: str | None = None
) -> Response[bytes]:
    return Response(
        envelope(SUCCESS, data, message), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def refusal(
    status_code: int, message: str, http_status: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    body = envelope(status_code, None, message)
    return Response(body, status_code=http_status, media_type=MEDIA_TYPE, headers=headers)


def error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Any error under /ocpi/ as an OCPI envelope."""
    if isinstance(exc, OcpiError):
        return refusal(exc.status_code, exc.message, exc.http_status)
    if isinstance(exc, MalformedJson):
        return refusal(INVALID_PARAMETERS, exc.detail, 400)
    if isinstance(exc, MethodNotAllowed):
        return refusal(CLIENT_ERROR, exc.detail, 405)
    if isinstance(exc, NotFound):
        return refusal(CLIENT_ERROR, exc.detail, 404)
    if isinstance(exc, DomainError):
        return refusal(INVALID_PARAMETERS, exc.detail)
    if isinstance(exc, PeerUnreachable):
        return refusal(UNABLE_TO_USE_CLIENT_API, f"unable to use the client's API: {exc}")
    if isinstance(exc, ValidationException):
        return refusal(INVALID_PARAMETERS, _validation_message(exc), 400)
    if isinstance(exc, HTTPException) and exc.status_code == 413:
        return refusal(INVALID_PARAMETERS, f"the request body exceeds {MAX_BODY_BYTES} bytes", 413)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        code = INVALID_PARAMETERS if exc.status_code == 400 else CLIENT_ERROR
        return refusal(code, exc.detail, exc.status_code, dict(exc.headers) if exc.headers else None)
    logger.exception("unhandled error", extra={"path": request.url.path})
    return refusal(SERVER_ERROR, "an unexpected error occurred", 500)


def _validation_message(exc: ValidationException) -> str:
    items = exc.extra if isinstance(exc.extra, list) else []
    parts = [f"{item.get('key', '')}: {item.get('message', '')}" for item in items if isinstance(item, dict)]
    return "; ".join(parts) or exc.detail


class DecimalJsonRequest(Request[Any, Any, Any]):
    """A request whose JSON numbers with a fraction are read as exact decimals, never floats."""

    async def json(self) -> Any:
        if self._json is Empty:
            body = await self.body()
            # A body of only whitespace is no body, as for the strict check (api/strict_body.py),
            # which has already refused what is not JSON.
            self._json = self._connection_state.json = DECIMAL_JSON.decode(body.strip() or b"null")
        return self._json


DECIMAL_JSON = msgspec.json.Decoder(float_hook=Decimal)


class EchoRequestIds:
    """ASGI middleware: every answer under /ocpi/ carries the request's X-Request-ID and
    X-Correlation-ID (new ones where the request had none)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_ocpi(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = {name.lower(): value for name, value in scope.get("headers", [])}
        ids = [
            (name, given.get(name) or str(uuid.uuid4()).encode())
            for name in (b"x-request-id", b"x-correlation-id")
        ]

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in dict(ids)]
                message["headers"] = [*kept, *ids]
            await send(message)

        await self.app(scope, receive, send_with_ids)


# --- who is calling -----------------------------------------------------------------------

TOKEN_A = "A"
TOKEN_C = "C"


@dataclass(frozen=True)
class Caller:
    """The charge point operator behind a request: its party, EMP, and which token it used."""

    party: UUID
    emp_id: UUID
    kind: str  # TOKEN_A (registering) or TOKEN_C (registered)
    token: str
    country_code: str
    party_id: str
    markup_bp: int


def token_candidates(header: str) -> list[str]:
    """The tokens an `Authorization: Token …` header may mean: base64-decoded (OCPI 2.2; the
    specification's own example decodes with a trailing newline) and as sent (older peers)."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    candidates = []
    try:
        decoded = base64.b64decode(value, validate=True).decode().strip()
        if decoded:
            candidates.append(decoded)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    return [*candidates, value]


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _find_caller(pool: ConnectionPool, candidates: list[str]) -> Caller | None:
    digests = [sha256(token) for token in candidates]
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT id, emp_id, country_code, party_id, markup_bp, status, token_a_sha256, token_c_sha256"
            " FROM ocpi_parties WHERE (token_a_sha256 = ANY(%(d)s) AND status = 'pending')"
            " OR (token_c_sha256 = ANY(%(d)s) AND status = 'connected') LIMIT 1",
            {"d": digests},
        ).fetchone()
    if row is None:
        return None
    values = row if isinstance(row, tuple) else tuple(row.values())
    party, emp_id, country, party_code, markup, status, token_a, token_c = values
    kind = TOKEN_C if status == "connected" else TOKEN_A
    token = next(t for t in candidates if sha256(t) == (token_c if kind == TOKEN_C else token_a))
    return Caller(party, emp_id, kind, token, country, party_code, markup)


async def caller_of(
    connection: ASGIConnection[Any, Any, Any, Any], pool: ConnectionPool, *, registering: bool
) -> Caller:
    """The caller, or 401 with status 2000. `registering`: token A is accepted too."""
    candidates = token_candidates(connection.headers.get("authorization", ""))
    found = await anyio.to_thread.run_sync(_find_caller, pool, candidates) if candidates else None
    if found is None:
        raise OcpiError(CLIENT_ERROR, "send a valid credentials token as 'Authorization: Token <token>'", 401)
    if found.kind == TOKEN_A and not registering:
        raise OcpiError(
            CLIENT_ERROR, "token A is for registration only: register with the credentials module", 401
        )
    return found


# Guards: they run before the body is read, so a request without a valid token is a 401 whatever
# its body. Each keeps the caller in the request's state for the handler.


async def registering(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Token A (a party registering) or token C."""
    ctx = connection.app.state.ctx
    connection.state.ocpi_caller = await caller_of(connection, ctx.pool, registering=True)


async def registered(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Token C only."""
    ctx = connection.app.state.ctx
    connection.state.ocpi_caller = await caller_of(connection, ctx.pool, registering=False)


def caller(request: Request[Any, Any, Any]) -> Caller:
    found: Caller = request.state.ocpi_caller
    return found
