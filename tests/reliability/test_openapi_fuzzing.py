"""Schemathesis against the served OpenAPI document, over real HTTP: no generated request gives
a 5xx, and every answer (status, media type, headers, body) is one the document describes.

Each operation gets schema-valid (positive) and schema-breaking (negative) requests, with every
built-in check. Half the valid ones name the seeded EMP's real resources, so they reach the
ledger's rules rather than stopping at 404. The traffic goes to a ledger of its own: a fuzzed
batch job must not bill the other tests' customers.

What the checks cannot ask of this API, by design, and so is relaxed (and only that):
- A valid-looking request may break a ledger rule no schema can state (a base package must
  recur, a session must end after it starts, a card may be declined): 402 and 422 are accepted
  answers to schema-valid data.
- JSON Schema counts 31.0 as an integer; the contract refuses it (money is never a float), so a
  valid request's integral floats are sent as integers (test_hostile_input proves 31.0 -> 400).
- A list cursor is opaque: only the cursors the API issued are valid, so a generated one is
  refused (400) although its type is right; positive acceptance is not asked of those requests.
  Nor of a generated webhook URL (the rule - a scheme, a host, no credentials, a public address
  once resolved - is more than a schema states) or a generated `types` filter of the event feed
  (comma-separated names): the real half of the valid requests names a URL the ledger accepts.
- A string that looks like a full card number (13-19 digits passing the Luhn check) is refused
  in any field, whatever its schema (test_hostile_input proves it): a valid request that holds
  one by chance is not asked to be accepted.
- Unknown query parameters are ignored, as HTTP APIs commonly do (the contract refuses unknown
  body fields): schemathesis is told not to add them to schema-breaking requests. It does not
  generate or break the Authorization header either: the key is ours, and test_roles_matrix
  covers every route with no key, a wrong key and each role.
- OCPI (under /ocpi/) answers a well-formed JSON request that its rules refuse - a schema-
  breaking CDR among them - with HTTP 200 and the refusal in `status_code` (2001), as the
  specification requires; the check that schema-breaking data gets a 4xx is therefore not
  asked of /ocpi/ operations (test_ocpi proves the 2001 of each refusal). Their calls carry the
  operator's OCPI token (`Authorization: Token …`); the credentials routes that change the
  registration get a party of their own, so fuzzing them does not cut the others' token.
- Batch jobs catch up everything due up to `as_of` (docs/billing.md), never beyond the EMP's
  now: a generated `as_of` in the year 9999 is refused (422), so the job operation is fuzzed on
  the same ledger as the others. A test clock moves at most 400 days at a time; one moved more
  than a month runs its jobs only when asked not to (`run_jobs: false`): a year of nightly job
  runs is not a request either.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from api.card_numbers import find_card_number
from tests.conftest import ServedApp
from tests.e2e.ledger_story import customer
from tests.ocpi_cpo import token_header
from tests.reliability.routes import CPO, HOOK_URL, ROUTES, Route, World, build_world
from tests.reliability.serving import ledger_of_its_own

EXAMPLES_PER_MODE = 25
CONFIG = {
    "generation": {"allow-extra-parameters": False, "with-security-parameters": False},
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "429", "402", "422"],
        }
    },
}
ROLE_PREFERENCE = ("emp", "auditor", "support", "admin")
TEST_CLOCK = "/v1/emps/{emp_id}/test-clock/advance"
MOST_BILLED_AT_ONCE = timedelta(days=31)
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module")
def world(server_url: str) -> Iterator[World]:
    with ledger_of_its_own(server_url) as served:
        built = build_world(served)
        yield built
        built.close()


@pytest.fixture(scope="module", autouse=True)
def report_tally() -> Iterator[None]:
    yield
    print(f"\nschemathesis: {sum(TALLY.values())} requests generated, by mode: {dict(TALLY)}")


def schema_of(served: ServedApp) -> Any:
    return schemathesis.openapi.from_url(
        f"{served.base_url}/schema/openapi.json", config=SchemathesisConfig.from_dict(CONFIG)
    )


def real_resources(world: World, route: Route | None = None) -> dict[str, list[str]]:
    packages = world.subscription.get("packages", [])
    endpoint, message = "", ""
    if world.webhook_endpoint_id:
        # A fuzzed DELETE removes an endpoint of its own, not the one the other routes name.
        deleting = route is not None and route.method == "DELETE" and "{endpoint_id}" in route.path
        endpoint = world.fresh_webhook_endpoint() if deleting else world.webhook_endpoint_id
        message = world.webhook_message()["message_id"]
    return {
        # A fuzzed erasure erases a customer of its own, not those the other routes name.
        "customer_id": [customer(world.tenant, "prepaid")["id"]]
        if route is not None and route.path.endswith("/personal-data")
        else [world.prepaid.get("id", ""), world.postpaid.get("id", "")],
        "subscription_id": [world.subscription.get("id", "")],
        "package_id": [package["id"] for package in packages],
        "invoice_id": [world.invoice_id],
        "credit_note_id": [world.credit_note_id],
        "endpoint_id": [endpoint],
        "message_id": [message],
        "emp_id": [world.tenant.id],
        "key_id": [world.fresh_key()]
        if route is not None and "{key_id}" in route.path
        else [str(uuid.uuid4())],
        "cdr_id": [world.cdr_id],
        "token_uid": [world.token_uid],
        "uid": [world.token_uid],
        "base_package": ["BASE-PRE", "BASE-POST"],
        "package": ["BOLT-PRE", "BOLT-POST", "ONCE", "TOPUP-20"],
    }


def with_real_resources(case: Any, resources: dict[str, list[str]], rng: random.Random) -> None:
    """Point a valid request at the seeded EMP's resources (values stay schema-valid)."""
    for name in case.path_parameters or {}:
        if resources.get(name) and all(resources[name]):
            case.path_parameters[name] = rng.choice(resources[name])
    if isinstance(case.body, dict):
        for name in ("customer_id", "base_package", "package"):
            if name in case.body and all(resources[name]):
                case.body[name] = rng.choice(resources[name])


def integers_for_integral_floats(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: integers_for_integral_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [integers_for_integral_floats(item) for item in value]
    return value


def without_years_of_jobs(body: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("to"), str):
        return body
    try:
        to = datetime.fromisoformat(body["to"].replace("Z", "+00:00"))
        far = to.astimezone(UTC) > datetime.now(UTC) + MOST_BILLED_AT_ONCE
    except (ValueError, OverflowError):
        return body
    return {**body, "run_jobs": False} if far else body


def key_for(world: World, roles: frozenset[str]) -> str:
    role = next(role for role in ROLE_PREFERENCE if role in roles)
    return world.served.admin_token if role == "admin" else world.tenant.keys[role]


def authorization_for(world: World, route: Route) -> dict[str, str]:
    if route.roles == {"public"}:
        return {}
    if route.roles == CPO:
        token = world.token_c
        if route.path == "/ocpi/2.2.1/credentials" and route.method == "POST":
            token = world.fresh_party()["token_a"]
        elif route.path == "/ocpi/2.2.1/credentials" and route.method in ("PUT", "DELETE"):
            token = world.fresh_connection()[0]
        return {"Authorization": token_header(token)}
    return {"Authorization": f"Bearer {key_for(world, route.roles)}"}


def has_inputs(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def fuzz(operation: Any, mode: GenerationMode, world: World, route: Route, headers: dict[str, str]) -> None:
    resources = real_resources(world, route)

    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans(), rng=st.randoms())
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def answered_as_documented(case: Any, real: bool, rng: random.Random) -> None:
        excluded = [negative_data_rejection] if route.roles == CPO else []
        if mode is GenerationMode.POSITIVE:
            case.body = integers_for_integral_floats(case.body)  # see the module doc
            if real:
                with_real_resources(case, resources, rng)
            if route.path == TEST_CLOCK:
                case.body = without_years_of_jobs(case.body)  # see the module doc
            if isinstance(case.body, dict) and "url" in case.body and real:
                case.body["url"] = HOOK_URL
            opaque = "cursor" in (case.query or {}) or "types" in (case.query or {})
            opaque = opaque or find_card_number(case.body) is not None
            if opaque or (isinstance(case.body, dict) and case.body.get("url", HOOK_URL) != HOOK_URL):
                excluded.append(positive_data_acceptance)  # see the module doc
        TALLY[mode.value] += 1
        case.call_and_validate(base_url=world.served.base_url, headers=headers, excluded_checks=excluded)

    answered_as_documented()


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.label)
def test_generated_requests_get_documented_answers_and_never_a_server_error(
    route: Route, world: World
) -> None:
    operation = schema_of(world.served)[route.path][route.method]
    headers = authorization_for(world, route)

    fuzz(operation, GenerationMode.POSITIVE, world, route, headers)
    try:
        fuzz(operation, GenerationMode.NEGATIVE, world, route, headers)
    except Unsatisfiable:
        # Nothing to break in a request without parameters or body: no negative case exists.
        assert not has_inputs(operation), route.label


def test_options_names_every_method_a_path_serves(world: World) -> None:
    document = httpx.get(f"{world.served.base_url}/schema/openapi.json").json()
    resources = real_resources(world)
    for path, operations in document["paths"].items():
        url = path.format(job="invoice-production", **{name: values[0] for name, values in resources.items()})

        allowed = httpx.options(f"{world.served.base_url}{url}").headers["allow"]

        assert allowed == ", ".join(sorted({*(method.upper() for method in operations), "OPTIONS"})), path
