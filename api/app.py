"""The Litestar application factory: routes, auth, idempotency, problem details, OpenAPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.template.config import TemplateConfig

from api.asgi import MAX_BODY_BYTES
from api.auth import PUBLIC_PATHS, BearerKeyMiddleware
from api.card_numbers import CardNumberGuard
from api.context import ApiContext
from api.idempotency import IdempotencyMiddleware
from api.problems import EXCEPTION_HANDLERS
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
    registrations,
    sessions,
    subscriptions,
    support,
)
from api.strict_body import decode_body_strictly


def create_app(ctx: ApiContext, *, log_formatter: str | None = None) -> Litestar:
    """Build the app; `log_formatter` is the import path of a logging formatter class."""
    prometheus = PrometheusConfig(app_name="chargeledger", prefix="chargeledger", group_path=True)

    formatters: dict[str, Any] = {"formatters": {"standard": {"()": log_formatter}}} if log_formatter else {}

    def provide_ctx() -> ApiContext:
        return ctx

    def keep_context(app_config: AppConfig) -> AppConfig:
        app_config.state["ctx"] = ctx
        return app_config

    return Litestar(
        # One Router: handlers sharing a path are then registered (and wrapped) exactly once.
        route_handlers=[
            Router(
                path="/",
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
                    *health.ROUTES,
                ],
            ),
            PrometheusController,
        ],
        dependencies={"ctx": Provide(provide_ctx, sync_to_thread=False, use_cache=True)},
        middleware=[
            prometheus.middleware,
            DefineMiddleware(BearerKeyMiddleware, exclude=PUBLIC_PATHS),
            CardNumberGuard,
            IdempotencyMiddleware,
        ],
        before_request=decode_body_strictly,
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="chargeledger",
            version="1.0.0",
            description="Event-sourced billing ledger for e-mobility providers.",
            path="/schema",
        ),
        logging_config=LoggingConfig(
            configure_root_logger=False,
            log_exceptions="always",
            disable_stack_trace={400, 401, 402, 403, 404, 405, 409, 413, 422, 429, 503},
            **formatters,
        ),
        request_max_body_size=MAX_BODY_BYTES,
        template_config=TemplateConfig(
            directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine
        ),
        on_app_init=[keep_context],
    )
