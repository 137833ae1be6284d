"""Every error leaves as RFC 9457 problem details; this is the one place that maps them."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from eventsourcing.persistence import IntegrityError as EsIntegrityError
from eventsourcing.persistence import InterfaceError as EsInterfaceError
from eventsourcing.persistence import OperationalError as EsOperationalError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Template
from psycopg import InterfaceError, OperationalError
from psycopg_pool import PoolTimeout

from api.field_patterns import readable
from domain.errors import DomainError, ValidationFailed

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://chargeledger.dev/problems/"
MEDIA_TYPE = "application/problem+json"

HTTP_CODES = {
    400: ("validation-error", "The request is not valid"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "This key may not do that"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
    503: ("service-unavailable", "The service is unavailable"),
}


class FieldProblem(msgspec.Struct, frozen=True):
    field: str
    message: str


class ProblemDetails(msgspec.Struct, frozen=True):
    """RFC 9457 problem details, as every error leaves (the OpenAPI document's error schema)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


# What each documented error status means here, by problem code.
PROBLEM_DESCRIPTIONS = {
    400: "validation-error: a malformed body, query, path or header; the field is named",
    401: "unauthorized: no API key, or not a valid one",
    402: "payment-declined: the gateway declined the card",
    403: "forbidden: this key's role may not do that",
    404: "not-found: no such resource of the key's EMP (another EMP's is never revealed)",
    409: "idempotency-conflict (Idempotency-Key reused for another request) or duplicate (a natural key)",
    413: "payload-too-large: the body exceeds 1 MiB",
    415: "unsupported-media-type: the body is not JSON (send Content-Type: application/json)",
    422: "a ledger rule: package-not-allowed, top-up-not-applicable, card-required,"
    " insufficient-balance or invalid-period",
    429: "rate-limited: this key sent too many requests, or this address too many keys that are not"
    " valid; see Retry-After",
    503: "service-unavailable: the database did not answer; retry (see Retry-After)",
}
# Any authenticated route can answer these.
COMMON_PROBLEMS = (400, 401, 403, 429, 503)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI `responses` of an authenticated route: the common problems and those given."""
    return problem_specs(*COMMON_PROBLEMS, *statuses)


def problem_specs(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            description=PROBLEM_DESCRIPTIONS[status],
            media_type=MEDIA_TYPE,
            generate_examples=False,
        )
        for status in sorted(set(statuses))
    }


class MalformedJson(ValidationFailed):
    """A body that is not JSON at all (OCPI answers it at the HTTP level, 400)."""


class ApiProblem(Exception):
    """An HTTP-level problem (auth, idempotency) that is not a domain rule."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.field, self.headers = field, headers


def unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", "Authentication required", detail)


def forbidden(detail: str) -> ApiProblem:
    return ApiProblem(403, "forbidden", "This key may not do that", detail)


def rate_limited(detail: str, retry_after: int) -> ApiProblem:
    return ApiProblem(
        429, "rate-limited", "Too many requests", detail, headers={"Retry-After": str(retry_after)}
    )


def unsupported_media_type(detail: str, field: str) -> ApiProblem:
    return ApiProblem(415, "unsupported-media-type", "Unsupported media type", detail, field)


def idempotency_conflict(detail: str) -> ApiProblem:
    return ApiProblem(409, "idempotency-conflict", "Idempotency-Key reused", detail)


def problem_body(
    status: int, code: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    request: Request[Any, Any, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Any]:
    instance = request.url.path if request is not None else None
    return Response(
        content=msgspec.json.encode(problem_body(status, code, title, detail, instance, **extra)),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def domain_problem(exc: DomainError, instance: str | None = None) -> dict[str, Any]:
    """A broken ledger rule as problem details, the field named."""
    extra: dict[str, Any] = {}
    if exc.field:
        extra["errors"] = [{"field": exc.field, "message": exc.detail}]
    return problem_body(exc.status, exc.code, exc.title, exc.detail, instance, **extra)


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return Response(
        content=msgspec.json.encode(domain_problem(exc, request.url.path)),
        status_code=exc.status,
        media_type=MEDIA_TYPE,
    )


def on_api_problem(request: Request[Any, Any, Any], exc: ApiProblem) -> Response[Any]:
    headers = {**({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}), **(exc.headers or {})}
    extra = {"errors": [{"field": exc.field, "message": exc.detail}]} if exc.field else {}
    return problem_response(
        exc.status, exc.code, exc.title, exc.detail, request, headers=headers or None, **extra
    )


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field = _field_name(item)
            errors.append({"field": field, "message": readable(str(item.get("message", "")))})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or exc.detail
    return problem_response(
        400, "validation-error", "The request is not valid", detail, request, errors=errors
    )


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code, title = HTTP_CODES.get(exc.status_code, ("error", "Error"))
    if exc.status_code >= 500:
        code, title = "internal-error", "Internal error"
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(exc.status_code, code, title, exc.detail, request, headers=headers)


def on_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.warning("database unavailable", extra={"error": str(exc), "path": request.url.path})
    return problem_response(
        503,
        "service-unavailable",
        "The database is unavailable",
        "the ledger's database did not answer; nothing was lost: retry with the same Idempotency-Key",
        request,
        headers={"Retry-After": "1"},
    )


def on_lost_race(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # A write that lost the optimistic-concurrency race on its streams more often than the
    # handler retries. Nothing of it was recorded, and a 5xx releases its Idempotency-Key, so
    # the client may simply retry (a 409 would be stored and replayed for that key forever).
    logger.warning("write lost a concurrent race; answered 503", extra={"path": request.url.path})
    return problem_response(
        503,
        "service-unavailable",
        "Too many concurrent writes",
        "concurrent writes to the same account won every attempt; nothing was lost:"
        " retry with the same Idempotency-Key",
        request,
        headers={"Retry-After": "1"},
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(500, "internal-error", "Internal error", "an unexpected error occurred", request)


def _field_name(item: dict[str, Any]) -> str:
    return field_from_message(str(item.get("message", ""))) or str(item.get("key") or "body")


def field_from_message(message: str) -> str | None:
    """The field a msgspec validation message is about, as a dotted path."""
    path = ""
    if " - at `$." in message:
        message, _, at = message.partition(" - at `$.")
        path = at.rstrip("`").strip()
    for marker in ("unknown field `", "required field `"):
        if marker in message:
            name = message.split(marker, 1)[1].split("`", 1)[0]
            return f"{path}.{name}" if path else name
    return path or None


def _subclasses(cls: type[Exception]) -> set[type[Exception]]:
    return {cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))}


# Problems a client caused: answered, never logged with a stack trace as if they were ours.
CLIENT_PROBLEMS = frozenset({*_subclasses(DomainError), ApiProblem})


def or_ocpi_envelope(handler: Any) -> Any:
    """Under /ocpi/ every error is an OCPI envelope (api/ocpi/envelope.py); elsewhere problem details."""

    def dispatch(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        from api.ocpi.envelope import error_response, is_ocpi

        if is_ocpi(request.url.path) and handler is not on_database_unavailable:
            return error_response(request, exc)
        return handler(request, exc)  # type: ignore[no-any-return]

    return dispatch


def is_support_page(path: str) -> bool:
    return path == "/support" or path.startswith("/support/")


def or_support_page(handler: Any) -> Any:
    """Under /support people read the errors: the same problem as an HTML page."""

    def dispatch(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        answer: Response[Any] = handler(request, exc)
        if not is_support_page(request.url.path) or answer.media_type != MEDIA_TYPE:
            return answer
        problem = msgspec.json.decode(answer.content)
        retry_after = (answer.headers or {}).get("Retry-After")
        return Template(
            "support/error.html",
            context={**problem, "session": None},
            status_code=answer.status_code or 500,
            headers={"Retry-After": retry_after} if retry_after else None,
        )

    return dispatch


EXCEPTION_HANDLERS: dict[Any, Any] = {
    kind: or_support_page(or_ocpi_envelope(handler))
    for kind, handler in {
        DomainError: on_domain_error,
        ApiProblem: on_api_problem,
        ValidationException: on_validation_error,
        HTTPException: on_http_exception,
        OperationalError: on_database_unavailable,
        InterfaceError: on_database_unavailable,
        PoolTimeout: on_database_unavailable,
        EsOperationalError: on_database_unavailable,
        EsInterfaceError: on_database_unavailable,
        EsIntegrityError: on_lost_race,
        Exception: on_unexpected,
    }.items()
}
