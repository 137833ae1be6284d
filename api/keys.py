"""API keys: issued once, stored only as a SHA-256 of their secret, compared in constant time;
named after who holds them, listed without their secret, revoked at once.

A request whose key was verified a moment ago in this process needs no lookup
(api/verified_keys.py: a revocation is heard at once by every process); `last_used_at` is
written at most once a minute per key, when the key is looked up."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

ROLES = ("emp", "support", "auditor")
# Notified with a key's id when it is revoked or deleted (migrations/0021_key_revocation_notify.sql).
REVOKED_CHANNEL = "chargeledger_api_key_revoked"
PREFIX = "clk_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the admin, or a key of one EMP with one role."""

    role: str  # "admin" or one of ROLES
    emp_id: UUID | None = None
    key_id: UUID | None = None
    name: str | None = None  # who holds the key

    @property
    def actor(self) -> str:
        """Who did it, as histories name it: `api-key:<id> (<holder>)`."""
        if self.key_id is None:
            return "admin"
        return f"api-key:{self.key_id}" if self.name is None else f"api-key:{self.key_id} ({self.name})"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# last_used_at is written when it is older than this: a key's requests do not each write.
LAST_USED_PRECISION = "1 minute"
KEY_COLUMNS = "id, role, name, created_at, last_used_at"


def issue_key(pool: ConnectionPool, emp_id: UUID, role: str, name: str | None = None) -> str:
    return new_key(pool, emp_id, role, name)["key"]


def new_key(pool: ConnectionPool, emp_id: UUID, role: str, name: str | None = None) -> dict[str, Any]:
    """A new key's row, with the key itself under "key" (shown this once)."""
    key_id = uuid.uuid4()
    secret = secrets.token_urlsafe(32)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "INSERT INTO api_keys (id, emp_id, role, name, secret_sha256) VALUES (%s, %s, %s, %s, %s)"
            f" RETURNING {KEY_COLUMNS}",
            (key_id, emp_id, role, name, _digest(secret)),
        )
        row = cur.fetchone()
    assert row is not None
    return {**row, "key": f"{PREFIX}{key_id.hex}{secret}"}


def keys_page(
    pool: ConnectionPool, emp_id: UUID, *, limit: int, after: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """An EMP's keys that are not revoked, oldest first; `after` is (created_at, id)."""
    start, after_id = after or (None, None)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {KEY_COLUMNS} FROM api_keys WHERE emp_id = %s AND revoked_at IS NULL"
            " AND (%s::timestamptz IS NULL OR (created_at, id) > (%s::timestamptz, %s::uuid))"
            " ORDER BY created_at, id LIMIT %s",
            (emp_id, start, start, after_id, limit),
        )
        return cur.fetchall()


def revoke_key(pool: ConnectionPool, emp_id: UUID, key_id: UUID) -> bool:
    """Whether a key of this EMP was revoked now (False: unknown, another EMP's, or revoked)."""
    with pool.connection() as conn:
        revoked = conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE id = %s AND emp_id = %s AND revoked_at IS NULL",
            (key_id, emp_id),
        )
        # Heard by every process when this commits (migrations/0021): each forgets the key.
        return revoked.rowcount == 1


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
    if found is None or not hmac.compare_digest(found.secret_sha256, _digest(token[len(PREFIX) + 32 :])):
        return None
    return found.used(pool)


def key_principal(pool: ConnectionPool, key_id: UUID) -> Principal | None:
    """Who a key not revoked is, by its id: for a sign-in that holds the key's id, not the key
    (the support page's sessions), checked the way every API request checks its key."""
    found = _active_key(pool, key_id)
    return None if found is None else found.used(pool)


@dataclass(frozen=True)
class _ActiveKey:
    principal: Principal
    secret_sha256: bytes
    use_unrecorded: bool  # last_used_at is older than LAST_USED_PRECISION (or never set)

    def used(self, pool: ConnectionPool) -> Principal:
        """The key's principal, its use recorded (at most once per LAST_USED_PRECISION)."""
        if self.use_unrecorded:
            with pool.connection() as conn:
                conn.execute(
                    "UPDATE api_keys SET last_used_at = now() WHERE id = %s", (self.principal.key_id,)
                )
        return self.principal


def _active_key(pool: ConnectionPool, key_id: UUID) -> _ActiveKey | None:
    """A key not revoked: who it is, the SHA-256 of its secret, whether its use is unrecorded."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT emp_id, role, name, secret_sha256,"
            f" last_used_at IS NULL OR last_used_at < now() - interval '{LAST_USED_PRECISION}'"
            " FROM api_keys WHERE id = %s AND revoked_at IS NULL",
            (key_id,),
        ).fetchone()
    if row is None:
        return None
    principal = Principal(role=row[1], emp_id=row[0], key_id=key_id, name=row[2])
    return _ActiveKey(principal, bytes(row[3]), bool(row[4]))


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
