"""API keys: issued once, stored only as a SHA-256 of their secret, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from psycopg_pool import ConnectionPool

ROLES = ("emp", "support", "auditor")
PREFIX = "clk_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the admin, or a key of one EMP with one role."""

    role: str  # "admin" or one of ROLES
    emp_id: UUID | None = None
    key_id: UUID | None = None

    @property
    def actor(self) -> str:
        return "admin" if self.key_id is None else f"api-key:{self.key_id}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_key(pool: ConnectionPool, emp_id: UUID, role: str) -> str:
    key_id = uuid.uuid4()
    secret = secrets.token_urlsafe(32)
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO api_keys (id, emp_id, role, secret_sha256) VALUES (%s, %s, %s, %s)",
            (key_id, emp_id, role, _digest(secret)),
        )
    return f"{PREFIX}{key_id.hex}{secret}"


def authenticate(pool: ConnectionPool, token: str, admin_token: str) -> Principal | None:
    if hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(role="admin")
    if not token.startswith(PREFIX) or len(token) < len(PREFIX) + 33:
        return None
    try:
        key_id = UUID(hex=token[len(PREFIX) : len(PREFIX) + 32])
    except ValueError:
        return None
    found = _active_key(pool, key_id)
    if found is None or not hmac.compare_digest(found[1], _digest(token[len(PREFIX) + 32 :])):
        return None
    return found[0]


def key_principal(pool: ConnectionPool, key_id: UUID) -> Principal | None:
    """Who a key not revoked is, by its id: for a sign-in that holds the key's id, not the key
    (the support page's sessions), checked the way every API request checks its key."""
    found = _active_key(pool, key_id)
    return None if found is None else found[0]


def _active_key(pool: ConnectionPool, key_id: UUID) -> tuple[Principal, bytes] | None:
    """A key not revoked: who it is, and the SHA-256 of its secret."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT emp_id, role, secret_sha256 FROM api_keys WHERE id = %s AND revoked_at IS NULL",
            (key_id,),
        ).fetchone()
    if row is None:
        return None
    return Principal(role=row[1], emp_id=row[0], key_id=key_id), bytes(row[2])


class VerifiedKeys:
    """Tokens verified against the database in the last `ttl` seconds, by the SHA-256 of the
    whole token: a key's next request within that time needs no round trip. A key revoked in
    the database stops working within `ttl` seconds; an unknown token is never remembered."""

    def __init__(
        self, ttl: float = 10.0, max_size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ):
        self.ttl = ttl
        self.max_size = max_size
        self.clock = clock
        self._seen: dict[bytes, tuple[Principal, float]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._seen.get(_digest(token))
        if entry is None:
            return None
        principal, until = entry
        return principal if self.clock() < until else None

    def put(self, token: str, principal: Principal) -> None:
        if len(self._seen) >= self.max_size:
            self._seen.clear()
        self._seen[_digest(token)] = (principal, self.clock() + self.ttl)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
