"""Sign-ins to the support page. The browser holds only a random session id (in an HttpOnly,
SameSite=Strict cookie); the server holds its SHA-256 with the id and role of the key it was
opened with, never the key. A session ends at sign-out, after IDLE without a page, LIFETIME
after sign-in, or as soon as its key is revoked (looked up on every request, as API keys are)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Request
from psycopg_pool import ConnectionPool

from api.keys import Principal, key_principal

COOKIE = "chargeledger_support_session"
IDLE = timedelta(hours=1)
LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class SupportSession:
    principal: Principal
    # Put in every form of the session and checked on each POST: another site cannot know it.
    csrf_token: str

    def csrf_matches(self, sent: str) -> bool:
        return hmac.compare_digest(sent.encode(), self.csrf_token.encode())


def open_session(pool: ConnectionPool, principal: Principal) -> str:
    """A new session for a key of an EMP; its id, for the cookie (the only copy of it)."""
    session_id = secrets.token_urlsafe(32)
    with pool.connection() as conn:
        conn.execute(  # the ended sessions of everyone go at each sign-in
            "DELETE FROM support_sessions WHERE last_seen_at <= now() - %s OR created_at <= now() - %s",
            (IDLE, LIFETIME),
        )
        conn.execute(
            "INSERT INTO support_sessions (id_sha256, key_id, emp_id, role, csrf_token)"
            " VALUES (%s, %s, %s, %s, %s)",
            (
                _digest(session_id),
                principal.key_id,
                principal.emp_id,
                principal.role,
                secrets.token_urlsafe(32),
            ),
        )
    return session_id


def current_session(pool: ConnectionPool, request: Request[Any, Any, Any]) -> SupportSession | None:
    """The live session of the request's cookie, its idle time restarted; None when there is no
    cookie, or its session ended (signed out, idle, too old, its key revoked)."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    with pool.connection() as conn:
        row = conn.execute(
            "UPDATE support_sessions SET last_seen_at = now()"
            " WHERE id_sha256 = %s AND last_seen_at > now() - %s AND created_at > now() - %s"
            " RETURNING key_id, csrf_token",
            (_digest(session_id), IDLE, LIFETIME),
        ).fetchone()
    if row is None:
        return None
    principal = key_principal(pool, row[0])
    if principal is None or principal.emp_id is None:
        close_session(pool, session_id)
        return None
    return SupportSession(principal, row[1])


def close_session(pool: ConnectionPool, session_id: str) -> None:
    with pool.connection() as conn:
        conn.execute("DELETE FROM support_sessions WHERE id_sha256 = %s", (_digest(session_id),))


def _digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()
