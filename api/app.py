"""The Litestar application factory: routes, auth, idempotency, problem details, OpenAPI."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig
from litestar.routes import HTTPRoute
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.access_log import AccessClock, log_access
from api.asgi import MAX_BODY_BYTES
from api.auth import PUBLIC_PATHS, BearerKeyMiddleware
from api.card_numbers import CardNumberGuard
from api.context import ApiContext
from api.idempotency import IdempotencyMiddleware
from api.ocpi import routes as ocpi
from api.ocpi.envelope import DecimalJsonRequest, EchoRequestIds, OcpiError
from api.operations import document_operations
from api.problems import CLIENT_PROBLEMS, EXCEPTION_HANDLERS
from api.query_parameters import RefuseUnknownQueryParameters
from api.rate_limit import RateLimitMiddleware
from api.reference import OfflineRedoc, reference_policy
from api.routes import (
    admin,
    audit,
    catalog,
    customers,
    exports,
    health,
    history,
    invoices,
    jobs,
    ocpi_admin,
    personal_data,
    registrations,
    sessions,
    stripe,
    subscriptions,
    support,
    webhooks,
)
from api.schemas import StrictStructSchemaPlugin
from api.strict_body import decode_body_strictly
from commands.ocpi_peer import PeerUnreachable

BEARER = "apiKey"
# Answers to the client's own mistakes: logged without a stack trace.
QUIET_STATUSES = (400, 401, 402, 403, 404, 405, 409, 413, 422, 429, 503)
# The reference's front page: what docs/api-basics.md says every integrator needs first.
API_DESCRIPTION = """An event-sourced billing ledger for e-mobility providers (EMPs): prepaid customers \
with a balance funded by top-ups, postpaid customers with a monthly invoice.

- **Keys**: `Authorization: Bearer <key>`. The admin key creates EMPs and their keys; an EMP's key \
has a role: `emp` (the integration), `support` (read, and correct balances) or `auditor` (read-only).
- **JSON in and out** (`Content-Type: application/json`; any other body is 415). Money is in \
integer minor units (`_minor`), instants are RFC 3339 with a zone, answered in UTC with `Z`.
- **Errors** are RFC 9457 problem details; `type` ends with the problem code and `errors` names \
the fields.
- **Idempotency**: every POST takes an `Idempotency-Key`; the same key and body return the first \
answer again, another body is 409.
- **Lists**: `limit` (default 50, at most 500) and `cursor`; answers `{"items": [...], "next_cursor": ...}`.
- **Read-your-writes**: a read sent after a write's answer reflects that write.

The repository's docs/ folder has a page per capability, with runnable examples."""
# Synchronous handlers run on the event loop's default executor, min(32, cores + 4) threads by
# default: six on a 2-core machine. A write holds its thread until the read models reflect it,
# so six writes waiting on slow read models would make every other request queue behind them.
HANDLER_THREADS = 64


def freeze_what_startup_made() -> None:
    """Every object of the started service lives as long as the process: the collector's full
    passes need not look at them again (those passes stalled writes for 60 ms and more)."""
    gc.collect()
    gc.freeze()


def use_handler_threads() -> None:
    """On startup, inside the server's event loop: the executor synchronous handlers run on."""
    executor = ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="api-handler")
    asyncio.get_running_loop().set_default_executor(executor)


class CompleteAllowHeader:
    """ASGI middleware: Litestar's automatic OPTIONS answer lists only the methods of the first
    handler registered on a path (GET /v1/customers is missing from it); this lists them all."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS":
            await self.app(scope, receive, send)
            return
        routes = [route for route in scope["app"].routes if isinstance(route, HTTPRoute)]
        route = next((route for route in routes if route.path_format == scope.get("path_template")), None)

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and route is not None:
                headers = [
                    (name, value) for name, value in message.get("headers", []) if name.lower() != b"allow"
                ]
                message["headers"] = [*headers, (b"allow", ", ".join(sorted(route.methods)).encode())]
            await send(message)

        await self.app(scope, receive, send_allow)


def create_app(
    ctx: ApiContext, *, log_formatter: str | None = None, on_shutdown: Sequence[Callable[[], None]] = ()
) -> Litestar:
    """Build the app; `log_formatter` is the import path of a logging formatter class."""
    prometheus = PrometheusConfig(app_name="chargeledger", prefix="chargeledger", group_path=True)

    formatters: dict[str, Any] = {"formatters": {"standard": {"()": log_formatter}}} if log_formatter else {}

    def provide_ctx() -> ApiContext:
        return ctx

    def listen_for_revocations() -> None:
        if ctx.database_url:  # without it nothing is remembered: every request reads its key
            ctx.verified_keys.start(ctx.database_url)

    def keep_context(app_config: AppConfig) -> AppConfig:
        app_config.state["ctx"] = ctx
        return app_config

    return Litestar(
        # One Router: handlers sharing a path are then registered (and wrapped) exactly once.
        route_handlers=[
            Router(
                path="/",
                security=[{BEARER: []}],
                route_handlers=[
                    *admin.ROUTES,
                    *customers.ROUTES,
                    *catalog.ROUTES,
                    *subscriptions.ROUTES,
                    *sessions.ROUTES,
                    *registrations.ROUTES,
                    *history.ROUTES,
                    *exports.ROUTES,
                    *audit.ROUTES,
                    *support.ROUTES,
                    *invoices.ROUTES,
                    *jobs.ROUTES,
                    *webhooks.ROUTES,
                    *ocpi_admin.ROUTES,
                    *personal_data.ROUTES,
                    *stripe.ROUTES,
                ],
            ),
            # OCPI's own surface: its token auth, envelopes, and JSON numbers read as decimals.
            Router(path="/", route_handlers=ocpi.ROUTES, request_class=DecimalJsonRequest),
            Router(path="/", route_handlers=health.ROUTES),
            Router(path="/", route_handlers=stripe.WEBHOOK_ROUTES),
        ],
        dependencies={"ctx": Provide(provide_ctx, sync_to_thread=False, use_cache=True)},
        middleware=[
            AccessClock,
            CompleteAllowHeader,
            EchoRequestIds,
            prometheus.middleware,
            DefineMiddleware(BearerKeyMiddleware, exclude=PUBLIC_PATHS),
            RefuseUnknownQueryParameters,
            DefineMiddleware(RateLimitMiddleware, limits=ctx.rate_limits),
            CardNumberGuard,
            IdempotencyMiddleware,
        ],
        before_request=decode_body_strictly,
        before_send=[reference_policy, log_access],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="chargeledger",
            version="1.0.0",
            description=API_DESCRIPTION,
            path="/schema",
            render_plugins=[OfflineRedoc()],
            components=Components(
                security_schemes={
                    BEARER: SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="the admin key, or an EMP's key with role emp, support or auditor",
                    ),
                    "ocpiToken": SecurityScheme(
                        type="apiKey",
                        name="Authorization",
                        security_scheme_in="header",
                        description="OCPI: 'Token <base64 of the token>' (the raw token is accepted too)",
                    ),
                }
            ),
        ),
        logging_config=LoggingConfig(
            configure_root_logger=False,
            log_exceptions="always",
            disable_stack_trace={*QUIET_STATUSES, *CLIENT_PROBLEMS, OcpiError, PeerUnreachable},
            **formatters,
        ),
        request_max_body_size=MAX_BODY_BYTES,
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine
        ),
        on_app_init=[keep_context],
        on_startup=[
            use_handler_threads,
            document_operations,
            listen_for_revocations,
            freeze_what_startup_made,
        ],
        plugins=[StrictStructSchemaPlugin()],
        on_shutdown=[ctx.verified_keys.stop, *on_shutdown],
    )
