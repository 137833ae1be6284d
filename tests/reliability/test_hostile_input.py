"""Hostile input, named: oversized bodies, card numbers in any field, amounts out of range,
unknown currencies, instants without a zone, and unicode at its edges. Each gets a problem
that names what was wrong, never a 5xx, and leaves nothing behind."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.asgi import MAX_BODY_BYTES
from tests.conftest import ServedApp, Tenant
from tests.e2e.ledger_story import CARD, customer, every_item, session
from tests.reliability.evidence import captured_logs, database_text
from tests.reliability.routes import CPO, PUBLIC, ROUTES, Route, World, build_world

CUSTOMER = {"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}
WRITES = [route for route in ROUTES if route.method in ("POST", "PUT")]


@pytest.fixture(scope="module")
def world(served: ServedApp) -> Iterator[World]:
    built = build_world(served)  # its invoice: the seeded EMP's own test clock moved, no global job
    yield built
    built.close()


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://chargeledger.dev/problems/{code}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def names(body: dict[str, Any], field: str) -> bool:
    return field in body["detail"] and field in [error["field"] for error in body.get("errors", [])]


def client_for(world: World, route: Route, parameters: dict[str, Any] | None = None) -> httpx.Client:
    if route.roles == CPO:
        return world.ocpi_client((parameters or {}).get("token", world.token_c))
    if route.roles == {"admin"}:
        return world.admin
    if route.roles == PUBLIC:  # no key at all (a PSP's webhook)
        return world.served.client()
    return world.tenant.emp if "emp" in route.roles else world.tenant.as_role(sorted(route.roles)[0])


def customer_count(tenant: Tenant) -> int:
    return len(every_item(tenant, "/v1/customers"))


# Oversized bodies


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("route", WRITES, ids=lambda route: route.label)
def test_an_oversized_body_is_refused_whole(world: World, route: Route, chunked: bool) -> None:
    parameters, _ = route.call(world)
    padding = b" " * MAX_BODY_BYTES
    body = b'{"name": "Ann Driver",' + padding + b'"email": "ann@example.com", "account_type": "prepaid"}'
    before = customer_count(world.tenant)

    content: Any = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    response = client_for(world, route, parameters).request(
        route.method, route.url(parameters), content=content, headers={"content-type": "application/json"}
    )

    if route.roles == CPO:  # OCPI's envelope: status 2001 and why
        assert (response.status_code, response.json()["status_code"]) == (413, 2001), response.text
        assert "1048576 bytes" in response.json()["status_message"]
    else:
        assert "1048576 bytes" in problem(response, 413, "payload-too-large")["detail"]
    assert customer_count(world.tenant) == before


def test_a_body_just_under_the_limit_is_read(world: World) -> None:
    fitting = b'{"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}'
    fitting = fitting[:-1] + b" " * (MAX_BODY_BYTES - len(fitting)) + b"}"

    response = world.tenant.emp.post(
        "/v1/customers", content=fitting, headers={"content-type": "application/json"}
    )

    assert response.status_code == 201, response.text


# Card numbers


def luhn_number(length: int, rng: random.Random) -> str:
    """A Luhn-valid number of `length` digits no other test sends (its random digits say so)."""
    digits = [rng.choice("3456")] + [rng.choice("0123456789") for _ in range(length - 2)]
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return "".join(digits) + str((10 - total % 10) % 10)


def written(number: str, style: int) -> str:
    """A card number as people write it: bare, grouped by 4 with spaces or dashes, in a sentence."""
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    return [number, " ".join(groups), "-".join(groups), f"my card is {number}, thanks"][style % 4]


def string_fields(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from string_fields(item, f"{path}.{key}" if path else key)
    elif isinstance(value, str):
        yield path


def with_value(body: Any, path: str, value: Any) -> Any:
    head, _, rest = path.partition(".")
    return {**body, head: with_value(body[head], rest, value) if rest else value}


REGISTRATION_WITH_CARD = {
    "name": "Bo Driver",
    "email": "bo@example.com",
    "account_type": "prepaid",
    "card": CARD,
}


def card_cases(world: World) -> Iterator[tuple[Route, dict[str, str], Any, str]]:
    """Every string field of a valid body of every POST and PUT (a nested card's too). Not those
    under /ocpi/: an operator's CDRs and credentials carry RFID numbers and ids that may be long
    digit strings, and refusing them would refuse the operator's sessions (api/card_numbers.py);
    a driver's token is guarded where the EMP issues it, on /v1/customers/{id}/tokens."""
    for route in WRITES:
        if route.roles == CPO:
            continue
        parameters, body = route.call(world)
        bodies = [body, REGISTRATION_WITH_CARD] if route.path == "/v1/registrations" else [body]
        for each in bodies:
            for field in string_fields(each):
                yield route, parameters, each, field


def test_a_card_number_in_any_string_field_is_refused_and_never_kept(world: World) -> None:
    rng = random.Random()
    sent: list[str] = []
    refusals = 0
    with captured_logs() as logs:
        for index, (route, parameters, body, field) in enumerate(card_cases(world)):
            number = luhn_number([13, 15, 16, 19][index % 4], rng)
            sent.append(number)
            response = client_for(world, route).request(
                route.method,
                route.url(parameters),
                json=with_value(body, field, written(number, index)),
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            refused = problem(response, 400, "validation-error")
            assert names(refused, field), (route.label, field, refused)
            assert number not in response.text
            refusals += 1

    assert refusals >= 30, "too few fields tried"
    stored = database_text(world.served.system.database_url)
    for number in sent:
        assert number not in stored
        assert number not in logs.text


@pytest.mark.parametrize("length", [13, 14, 15, 16, 17, 18, 19])
def test_card_numbers_of_every_length_are_refused(world: World, length: int) -> None:
    number = luhn_number(length, random.Random())
    response = world.tenant.emp.post("/v1/customers", json={**CUSTOMER, "external_ref": number})
    assert names(problem(response, 400, "validation-error"), "external_ref")


def test_digits_that_are_not_a_card_number_are_kept(world: World) -> None:
    number = luhn_number(16, random.Random())
    not_luhn = number[:-1] + str((int(number[-1]) + 1) % 10)
    short = number[:12]

    for reference in (not_luhn, short, str(uuid.uuid4())):
        response = world.tenant.emp.post("/v1/customers", json={**CUSTOMER, "external_ref": reference})
        assert response.status_code == 201, response.text
        assert response.json()["external_ref"] == reference


# Amounts


AMOUNT_FIELDS = [
    ("top-up", "amount_minor", lambda w: ("POST", f"/v1/customers/{w.prepaid['id']}/top-ups", {})),
    ("session cost", "cost_minor", lambda w: ("POST", "/v1/sessions", _session_body(w))),
    ("session energy", "energy_wh", lambda w: ("POST", "/v1/sessions", _session_body(w))),
    ("package price", "price_minor", lambda w: ("POST", "/v1/packages", _package_body())),
    ("adjustment", "amount_minor", lambda w: ("POST", _adjustments(w), {"reason": "goodwill"})),
    ("auto top-up threshold", "threshold_minor", lambda w: ("PUT", _auto(w), {"enabled": False})),
    ("auto top-up amount", "amount_minor", lambda w: ("PUT", _auto(w), {"enabled": False})),
]
BAD_AMOUNTS = [-1, 10**12 + 1, -(10**12) - 1, 10**30, 12.5, 31.0, "100", "1e3", True, None, [100], {"v": 1}]


def _session_body(world: World) -> dict[str, Any]:
    return ROUTES_BY_LABEL["POST /v1/sessions"].call(world)[1]  # type: ignore[no-any-return]


def _package_body() -> dict[str, Any]:
    return {
        "code": f"P-{uuid.uuid4().hex[:8]}",
        "name": "P",
        "kind": "bolt_on",
        "recurring": False,
        "payment": "any",
    }


def _adjustments(world: World) -> str:
    return f"/v1/customers/{world.prepaid['id']}/adjustments"


def _auto(world: World) -> str:
    return f"/v1/customers/{world.prepaid['id']}/auto-top-up"


ROUTES_BY_LABEL = {route.label: route for route in ROUTES}


@pytest.mark.parametrize("value", BAD_AMOUNTS, ids=repr)
@pytest.mark.parametrize(
    ("what", "field", "request_of"), AMOUNT_FIELDS, ids=[case[0] for case in AMOUNT_FIELDS]
)
def test_an_amount_out_of_range_or_not_an_integer_is_refused_by_name(
    world: World, what: str, field: str, request_of: Any, value: Any
) -> None:
    method, url, body = request_of(world)
    if value is None and method == "PUT":
        value = -5  # null means "the EMP default" there
    if value == -1 and what == "adjustment":
        value = 0  # an adjustment is signed; 0 is its one excluded value
    balance = world.tenant.emp.get(f"/v1/customers/{world.prepaid['id']}/balance").json()["balance_minor"]

    response = world.tenant.emp.request(method, url, json={**body, field: value})

    assert names(problem(response, 400, "validation-error"), field)
    assert (
        world.tenant.emp.get(f"/v1/customers/{world.prepaid['id']}/balance").json()["balance_minor"]
        == balance
    )


def test_an_adjustment_of_zero_is_refused_by_name(world: World) -> None:
    response = world.tenant.emp.post(_adjustments(world), json={"amount_minor": 0, "reason": "nothing"})
    assert names(problem(response, 400, "validation-error"), "amount_minor")


@pytest.mark.parametrize("field", ["threshold_minor", "amount_minor"])
@pytest.mark.parametrize("value", [-1, 10**12 + 1, 10.5, "1000"], ids=repr)
def test_an_emps_default_amounts_are_checked_too(world: World, field: str, value: Any) -> None:
    defaults = {"threshold_minor": 1000, "amount_minor": 3000, field: value}
    response = world.admin.post(
        "/v1/emps", json={"name": "Odd EMP", "currency": "EUR", "auto_top_up": defaults}
    )
    assert names(problem(response, 400, "validation-error"), f"auto_top_up.{field}")


# Currencies


@pytest.mark.parametrize(
    "currency", ["EUX", "ZZZ", "eur", "EURO", "EU", "", "€", "EUR\n", 978, None, ["EUR"]]
)
def test_an_unknown_currency_is_refused_by_name(world: World, currency: Any) -> None:
    response = world.admin.post("/v1/emps", json={"name": "Odd EMP", "currency": currency})
    assert names(problem(response, 400, "validation-error"), "currency")


# Instants


NAIVE = "2026-11-21T09:30:00"


@pytest.mark.parametrize("field", ["started_at", "ended_at"])
@pytest.mark.parametrize(
    "value", [NAIVE, "2026-11-21", "yesterday", "2026-13-01T00:00:00Z", 1763717400], ids=repr
)
def test_a_session_instant_without_a_zone_or_not_an_instant_is_refused_by_name(
    world: World, field: str, value: Any
) -> None:
    body = _session_body(world)
    response = world.tenant.emp.post("/v1/sessions", json={**body, field: value})
    assert names(problem(response, 400, "validation-error"), field)


def test_a_job_run_without_a_zone_is_refused_by_name(world: World) -> None:
    response = world.admin.post("/v1/jobs/invoice-production/runs", json={"as_of": NAIVE})
    assert names(problem(response, 400, "validation-error"), "as_of")


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/v1/customers/{id}/balance", "at"),
        ("/v1/customers/{id}/balance/explain", "at"),
        ("/v1/exports/sessions", "from"),
        ("/v1/exports/transactions", "to"),
    ],
)
@pytest.mark.parametrize("value", [NAIVE, "soon", "2026-02-30T00:00:00Z"], ids=repr)
def test_a_query_instant_without_a_zone_is_refused_by_name(
    world: World, path: str, parameter: str, value: str
) -> None:
    response = world.tenant.emp.get(path.format(id=world.prepaid["id"]), params={parameter: value})
    assert names(problem(response, 400, "validation-error"), parameter)


BEYOND_UTC = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]  # no UTC equivalent


@pytest.mark.parametrize("instant", BEYOND_UTC)
def test_an_instant_with_no_utc_equivalent_is_refused_by_name(world: World, instant: str) -> None:
    session_body = {**_session_body(world), "started_at": instant}
    refused_session = world.tenant.emp.post("/v1/sessions", json=session_body)
    refused_run = world.admin.post("/v1/jobs/invoice-production/runs", json={"as_of": instant})

    # Well-formed instants, so not validation errors: no period can hold them.
    assert names(problem(refused_session, 422, "invalid-period"), "started_at")
    assert names(problem(refused_run, 422, "invalid-period"), "as_of")


@pytest.mark.parametrize("instant", [*BEYOND_UTC, "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_instants_at_the_ends_of_the_calendar_are_answered(world: World, instant: str) -> None:
    emp = world.tenant.emp
    answers = [
        emp.get(f"/v1/customers/{world.prepaid['id']}/balance", params={"at": instant}),
        emp.get(f"/v1/customers/{world.prepaid['id']}/balance/explain", params={"at": instant}),
        emp.post("/v1/sessions", json={**_session_body(world), "started_at": instant}),
        emp.get("/v1/exports/sessions", params={"from": instant}),  # read whole: no row breaks the stream
        emp.get("/v1/exports/transactions", params={"to": instant}),
    ]
    assert all(response.status_code < 500 for response in answers), [r.text for r in answers]


# Unicode


TEXTS = {
    "emoji": "Ann 🔌⚡ Driver 👩🏽‍🔧",
    "right-to-left": "آن درایور ‏עברית‎",
    "combining": "Åñn D̶r̷i̴v̵e̸r",
    "zero-width": "Ann\u200b\u200dDriver\ufeff",
    "line separators": "Ann\u2028Driver\u2029",
    "controls": "Ann\u0007\u001bDriver\u007f",
    "noncharacters": "Ann\ufffe\uffff",
    "private use": "Ann \ue000\U000f0000",
    "longest allowed": "é" * 200,
}
TEXT_FIELDS = [
    ("customer name", "/v1/customers", "name", lambda w: dict(CUSTOMER)),
    ("external reference", "/v1/customers", "external_ref", lambda w: dict(CUSTOMER)),
    ("session location", "/v1/sessions", "location", _session_body),
    ("adjustment reason", "{adjustments}", "reason", lambda w: {"amount_minor": 1}),
]


def _post_text(world: World, url: str, body: dict[str, Any]) -> httpx.Response:
    client = world.tenant.as_role("support") if "adjustments" in url else world.tenant.emp
    return client.post(url.format(adjustments=_adjustments(world)), json=body)


@pytest.mark.parametrize("text", list(TEXTS.values()), ids=list(TEXTS))
@pytest.mark.parametrize(("what", "url", "field", "body_of"), TEXT_FIELDS, ids=[f[0] for f in TEXT_FIELDS])
def test_unusual_unicode_is_kept_exactly(
    world: World, what: str, url: str, field: str, body_of: Any, text: str
) -> None:
    body = {**body_of(world), field: text}
    if field == "external_ref":
        body[field] = text[:190] + uuid.uuid4().hex[:8]

    response = _post_text(world, url, body)

    assert response.status_code == 201, response.text
    if url == "/v1/customers":
        stored = world.tenant.emp.get(f"/v1/customers/{response.json()['id']}").json()
        assert stored[field] == body[field]
    if url == "/v1/sessions":
        exported = world.tenant.emp.get("/v1/exports/sessions", params={"format": "ndjson"}).text
        assert body["session_id"] in exported


@pytest.mark.parametrize(
    "text", ["a\u0000b", "\u0000", "x" * 5000], ids=["NUL inside", "only NUL", "too long"]
)
@pytest.mark.parametrize(("what", "url", "field", "body_of"), TEXT_FIELDS, ids=[f[0] for f in TEXT_FIELDS])
def test_text_the_ledger_cannot_keep_is_refused_by_name(
    world: World, what: str, url: str, field: str, body_of: Any, text: str
) -> None:
    response = _post_text(world, url, {**body_of(world), field: text})
    assert names(problem(response, 400, "validation-error"), field)


RAW_BODIES = {
    "lone high surrogate": b'{"name": "\\ud800", "email": "a@b.fi", "account_type": "prepaid"}',
    "lone low surrogate": b'{"name": "x\\udc00", "email": "a@b.fi", "account_type": "prepaid"}',
    "reversed pair": b'{"name": "\\udc00\\ud800", "email": "a@b.fi", "account_type": "prepaid"}',
    "invalid UTF-8": b'{"name": "\xff\xfe", "email": "a@b.fi", "account_type": "prepaid"}',
    "overlong UTF-8": b'{"name": "\xc0\xaf", "email": "a@b.fi", "account_type": "prepaid"}',
    "encoded surrogate": b'{"name": "\xed\xa0\x80", "email": "a@b.fi", "account_type": "prepaid"}',
    "UTF-16": '{"name": "Ann", "email": "a@b.fi", "account_type": "prepaid"}'.encode("utf-16"),
    "nested 100000 deep": b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nested 900 deep": b'{"external_ref": ' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"}",
    "number beyond float": b'{"name": "Ann", "email": "a@b.fi", "account_type": "prepaid", "name": 1e400}',
    "truncated": b'{"name": "Ann", "email": "a@b.fi", "account_type": "prep',
    "not an object": b'"Ann Driver"',
    "empty": b"",
}


@pytest.mark.parametrize("raw", list(RAW_BODIES.values()), ids=list(RAW_BODIES))
def test_a_body_that_is_not_valid_json_text_is_a_validation_error(world: World, raw: bytes) -> None:
    before = customer_count(world.tenant)

    response = world.tenant.emp.post(
        "/v1/customers", content=raw, headers={"content-type": "application/json"}
    )

    problem(response, 400, "validation-error")
    assert customer_count(world.tenant) == before


def test_the_ledger_still_answers_after_the_hostile_input(world: World, served: ServedApp) -> None:
    driver = customer(world.tenant, "prepaid")
    assert session(world.tenant, driver["id"], 42).status_code == 201

    health = httpx.get(f"{served.base_url}/health").json()
    assert world.tenant.emp.get(f"/v1/customers/{driver['id']}/balance").json()["balance_minor"] == -42
    assert all(
        projection["running"] and not projection["last_error"]
        for projection in health["projections"].values()
    )
