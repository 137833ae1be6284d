"""Bearer-key authentication middleware and role guards."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.context import ApiContext
from api.keys import Principal, authenticate
from api.problems import forbidden, unauthorized

# /support signs in with a cookie of its own (api/routes/support.py); /ocpi/ with OCPI's
# credentials tokens (api/ocpi/envelope.py).
PUBLIC_PATHS = ["^/health", "^/schema", "^/metrics", "^/support", "^/ocpi/", "^/v1/psp/"]


class BearerKeyMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("send an API key as 'Authorization: Bearer <key>'")
        ctx: ApiContext = connection.app.state.ctx
        address = connection.client.host if connection.client else "unknown"
        ctx.auth_failures.refuse_if_limited(address, "requests")
        token = token.strip()
        principal = ctx.verified_keys.get(token)
        if principal is None:
            generation = ctx.verified_keys.generation
            principal = await anyio.to_thread.run_sync(authenticate, ctx.pool, token, ctx.admin_token)
            if principal is None:
                ctx.auth_failures.failed(address)
                raise unauthorized("the API key is not valid")
            ctx.verified_keys.put(token, principal, generation)
        return AuthenticationResult(user=principal, auth=token)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise unauthorized("send an API key as 'Authorization: Bearer <key>'")
    return user


# Guards are coroutines: Litestar runs a plain function guard in a worker thread, a hop per request.
async def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not principal_of(connection).is_admin:
        raise forbidden("this route needs the admin key")


def _roles(*allowed: str) -> Any:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal.role not in allowed:
            raise forbidden(f"this route is for keys with role {' or '.join(allowed)}")

    return guard


emp_only = _roles("emp")
readers = _roles("emp", "support", "auditor")
support_or_emp = _roles("emp", "support")


async def auditors(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = principal_of(connection)
    if not (principal.is_admin or principal.role == "auditor"):
        raise forbidden("this route is for auditor keys and the admin key")
