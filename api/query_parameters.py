"""Query parameters a route does not declare are refused, never ignored: a filter spelt wrong
(`?externalref=`) would otherwise answer every row as if it matched.

One ASGI middleware for every route under /v1/ and /ocpi/, routes added later included: it
compares the query string with the parameters the handler's signature (and its dependencies)
declare, as Litestar itself reads them. /v1/ answers 400 `validation-error` naming the
parameter; /ocpi/ an OCPI envelope with status 2001 (the paginated GETs take `offset`, `limit`,
`date_from` and `date_to`, as OCPI 2.2.1 defines them). /support is left alone: its pages are
forms a person fills in."""

from __future__ import annotations

from urllib.parse import parse_qsl

from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send

from api.ocpi.envelope import INVALID_PARAMETERS, OcpiError
from domain.errors import ValidationFailed

CHECKED_PATHS = ("/v1/", "/ocpi/")
MAX_NAME_SHOWN = 100


class RefuseUnknownQueryParameters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._known: dict[int, frozenset[str] | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CHECKED_PATHS) and scope.get("query_string"):
            handler = scope.get("route_handler")
            if isinstance(handler, HTTPRouteHandler):
                known = self._known_for(handler, scope)
                if known is not None:
                    _refuse_unknown(scope, known)
        await self.app(scope, receive, send)

    def _known_for(self, handler: HTTPRouteHandler, scope: Scope) -> frozenset[str] | None:
        """The query parameters the handler takes, as Litestar's own model of its arguments
        has them (None: it takes the whole `query`)."""
        key = id(handler)
        if key not in self._known:
            models = [
                model
                for route in scope["app"].routes
                if isinstance(route, HTTPRoute)
                for routed, model in route.route_handler_map.values()
                if routed is handler
            ]
            if not models or "query" in models[0].expected_reserved_kwargs:
                self._known[key] = None
            else:
                self._known[key] = frozenset(p.field_alias for p in models[0].expected_query_params)
        return self._known[key]


def _refuse_unknown(scope: Scope, known: frozenset[str]) -> None:
    query: bytes = scope["query_string"]
    for name, _ in parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True):
        if name in known:
            continue
        name = name[:MAX_NAME_SHOWN]
        takes = ", ".join(sorted(known)) or "none"
        detail = f"{name}: not a query parameter of this route (it takes: {takes})"
        if scope["path"].startswith("/ocpi/"):
            raise OcpiError(INVALID_PARAMETERS, detail, 400)
        raise ValidationFailed(detail, field=name)
