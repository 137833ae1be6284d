"""The URLs chargeledger hands to OCPI peers: CHARGELEDGER_PUBLIC_URL, or else the address the
server listens on."""

from __future__ import annotations

from typing import Any

from api.context import ApiContext

VERSION = "2.2.1"


def base_url(ctx: ApiContext, scope: Any) -> str:
    if ctx.public_url:
        return ctx.public_url.rstrip("/")
    host, port = scope.get("server") or ("127.0.0.1", 8000)
    scheme = scope.get("scheme", "http")
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    return f"{scheme}://{host}" if default else f"{scheme}://{host}:{port}"


def versions_url(ctx: ApiContext, scope: Any) -> str:
    return f"{base_url(ctx, scope)}/ocpi/versions"


def version_url(ctx: ApiContext, scope: Any) -> str:
    return f"{base_url(ctx, scope)}/ocpi/{VERSION}"


def module_url(ctx: ApiContext, scope: Any, module: str) -> str:
    return f"{version_url(ctx, scope)}/{module}"
