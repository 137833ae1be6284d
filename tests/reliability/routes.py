"""Every route the service offers, who may call it, and a valid call of it on a seeded EMP.

The roles matrix and the fuzzing both walk this table; a test checks it against the OpenAPI
document, so a new route cannot be left out of either.
"""

from __future__ import annotations

import itertools
import random
import string
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.conftest import ServedApp, Tenant, make_tenant
from tests.e2e.ledger_story import CARD, advance, customer, define_catalog, session, subscribe
from tests.ocpi_cpo import LocalCpo, official_cdr, token_header

READERS = frozenset({"emp", "support", "auditor"})
EMP = frozenset({"emp"})
ADMIN = frozenset({"admin"})
PUBLIC = frozenset({"public"})
# A charge point operator over OCPI, with its credentials token (C, or the token A a route names).
CPO = frozenset({"cpo"})
HOOK_URL = "https://hooks.example.com/chargeledger"  # never called: the matrix runs no delivery worker


@dataclass
class World:
    """An EMP with a catalog, customers, subscriptions, a session and an invoice; and another EMP."""

    served: ServedApp
    admin: httpx.Client
    tenant: Tenant
    other: Tenant
    prepaid: dict[str, Any] = field(default_factory=dict)
    postpaid: dict[str, Any] = field(default_factory=dict)
    subscription: dict[str, Any] = field(default_factory=dict)
    invoice_id: str = ""
    credit_note_id: str = ""
    webhook_endpoint_id: str = ""
    cpo: LocalCpo | None = None
    token_c: str = ""  # the seeded EMP's connected operator's
    cdr_id: str = ""  # a CDR that operator pushed
    token_uid: str = ""  # the prepaid customer's token

    def close(self) -> None:
        self.tenant.close()
        self.other.close()
        self.admin.close()
        if self.cpo is not None:
            self.cpo.stop()

    def fresh_key(self) -> str:
        """The id of a new key of the seeded EMP, for a DELETE to revoke instead of its own."""
        created = self.admin.post(
            f"/v1/emps/{self.tenant.id}/api-keys", json={"role": "auditor", "name": "Matrix"}
        )
        assert created.status_code == 201, created.text
        key_id: str = created.json()["id"]
        return key_id

    # --- OCPI ------------------------------------------------------------------------------

    def fresh_party(self) -> dict[str, Any]:
        """A pending operator of the seeded EMP (its codes of its own), with token A."""
        created = self.tenant.emp.post("/v1/ocpi/parties", json={**_party_codes(), "name": "Matrix CPO"})
        assert created.status_code == 201, created.text
        party: dict[str, Any] = created.json()
        return party

    def credentials_of(self, party: dict[str, Any]) -> dict[str, Any]:
        assert self.cpo is not None
        credentials = self.cpo.credentials()
        credentials["roles"][0]["party_id"] = party["party_id"]
        credentials["roles"][0]["country_code"] = party["country_code"]
        return credentials

    def fresh_connection(self) -> tuple[str, dict[str, Any]]:
        """A registered operator: its token C, and credentials it may send again."""
        party = self.fresh_party()
        credentials = self.credentials_of(party)
        with self.ocpi_client(party["token_a"]) as client:
            registered = client.post("/ocpi/2.2.1/credentials", json=credentials)
        assert registered.json()["status_code"] == 1000, registered.text
        return registered.json()["data"]["token"], credentials

    def ocpi_client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.served.base_url, headers={"Authorization": token_header(token)}, timeout=30.0
        )

    def cdr(self, uid: str) -> dict[str, Any]:
        return official_cdr(country_code="NL", party_id="EXA", uid=uid)

    def fresh_unmatched_cdr(self) -> str:
        with self.ocpi_client(self.token_c) as client:
            pushed = client.post("/ocpi/2.2.1/cdrs", json=self.cdr(f"NOBODY-{uuid.uuid4().hex[:8]}"))
        assert pushed.status_code == 201, pushed.text
        return pushed.headers["location"].rsplit("/", 1)[1]

    def fresh_token(self, customer_id: str) -> str:
        uid = f"M{uuid.uuid4().hex[:12].upper()}"
        issued = self.tenant.emp.post(
            f"/v1/customers/{customer_id}/tokens",
            json={"uid": uid, "type": "RFID", "contract_id": "FI-VLT-M"},
        )
        assert issued.status_code == 201, issued.text
        return uid

    def fresh_subscription(self) -> dict[str, Any]:
        return subscribe(self.tenant, customer(self.tenant, "prepaid", card=CARD)["id"], "BASE-PRE")

    def fresh_postpaid_subscription(self) -> dict[str, Any]:
        return subscribe(self.tenant, customer(self.tenant, "postpaid")["id"], "BASE-POST")

    def clock_now(self) -> datetime:
        emp = self.tenant.emp.get(f"/v1/emps/{self.tenant.id}").json()
        return datetime.fromisoformat(emp["test_clock"]["now"].replace("Z", "+00:00"))

    def fresh_bolt_on(self) -> dict[str, str]:
        subscription = self.fresh_subscription()
        url = f"/v1/subscriptions/{subscription['id']}/packages"
        acquired = self.tenant.emp.post(url, json={"package": "BOLT-PRE"})
        assert acquired.status_code == 201, acquired.text
        return {"subscription_id": subscription["id"], "package_id": acquired.json()["id"]}

    def fresh_webhook_endpoint(self) -> str:
        created = self.tenant.emp.post("/v1/webhook-endpoints", json={"url": HOOK_URL})
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def webhook_message(self) -> dict[str, str]:
        """A message of the seeded endpoint, once the webhook projection has written one."""
        url = f"/v1/webhook-endpoints/{self.webhook_endpoint_id}/messages"
        deadline = time.monotonic() + 15
        while not (items := self.tenant.emp.get(url).json()["items"]):
            assert time.monotonic() < deadline, "no webhook message was written"
            time.sleep(0.05)
        return {"endpoint_id": self.webhook_endpoint_id, "message_id": items[0]["id"]}


def build_world(served: ServedApp, *, invoiced: bool = True) -> World:
    """`invoiced`: the seeded EMP's test clock moves past its first period, so its own jobs (no
    other EMP's) issue an invoice, which is then credited in part."""
    admin = served.client(served.admin_token)
    # The seeded EMP is on a test clock (at the real now): its invoice comes from moving it.
    started = datetime.now(UTC).replace(microsecond=0)
    world = World(served, admin, make_tenant(served, admin, test_clock=started), make_tenant(served, admin))
    define_catalog(world.tenant)
    world.webhook_endpoint_id = world.fresh_webhook_endpoint()
    world.prepaid = customer(world.tenant, "prepaid", card=CARD)
    world.postpaid = customer(world.tenant, "postpaid", card=CARD)
    connect_an_operator(world)
    world.subscription = subscribe(world.tenant, world.prepaid["id"], "BASE-PRE")
    postpaid_subscription = subscribe(world.tenant, world.postpaid["id"], "BASE-POST")
    assert session(world.tenant, world.prepaid["id"], 250).status_code == 201
    assert session(world.tenant, world.postpaid["id"], 1234).status_code == 201
    if not invoiced:
        return world
    assert postpaid_subscription["started_at"]
    # Seller and buyer details, so the invoice's e-invoice can be made (else 422 naming them).
    assert admin.patch(f"/v1/emps/{world.tenant.id}", json={"seller": SELLER}).status_code == 200
    billed = world.tenant.emp.patch(f"/v1/customers/{world.postpaid['id']}", json={"billing": BILLING})
    assert billed.status_code == 200, billed.text
    advance(world.tenant, started + timedelta(days=33))
    invoices = world.tenant.emp.get("/v1/invoices", params={"customer_id": world.postpaid["id"]}).json()
    world.invoice_id = invoices["items"][0]["id"]
    credited = world.tenant.emp.post(
        f"/v1/invoices/{world.invoice_id}/credit-notes",
        json={"reason": "goodwill", "lines": [{"line": 1, "amount_minor": 1}]},
    )
    assert credited.status_code == 201, credited.text
    world.credit_note_id = credited.json()["id"]
    return world


SELLER = {
    "legal_name": "Volt Oy",
    "vat_id": "FI12345678",
    "address": {"line1": "Katu 1", "city": "Helsinki", "postal_code": "00100", "country": "FI"},
    "electronic_address": {"scheme": "0216", "id": "003712345678"},
}
BILLING = {
    "address": {"line1": "Tie 2", "city": "Espoo", "postal_code": "02100", "country": "FI"},
    "electronic_address": {"scheme": "0216", "id": "003787654321"},
}


PARTY_NUMBERS = itertools.count()
ALPHANUMERIC = string.digits + string.ascii_uppercase


def _party_codes() -> dict[str, str]:
    """Codes of an operator not seen before (one pending or connected twice answers 409): the
    party id is numbered, not drawn, since a world makes dozens and random codes could repeat;
    it starts with a digit, so it is never one of the seeded operators' (EXA, VLT, OTH)."""
    first, rest = divmod(next(PARTY_NUMBERS) % (10 * 36 * 36), 36 * 36)
    return {
        "country_code": "".join(random.choices(string.ascii_uppercase, k=2)),
        "party_id": string.digits[first] + ALPHANUMERIC[rest // 36] + ALPHANUMERIC[rest % 36],
    }


def connect_an_operator(world: World) -> None:
    """Both EMPs are eMSPs; the seeded one is connected with a local CPO (NL*EXA), which has
    pushed a CDR of the prepaid customer's token."""
    for tenant, party_id in ((world.tenant, "VLT"), (world.other, "OTH")):
        identity = {"ocpi": {"country_code": "FI", "party_id": party_id}}
        assert world.admin.patch(f"/v1/emps/{tenant.id}", json=identity).status_code == 200
    world.cpo = LocalCpo()
    created = world.tenant.emp.post(
        "/v1/ocpi/parties", json={"country_code": "NL", "party_id": "EXA", "name": "Example Operator"}
    )
    assert created.status_code == 201, created.text
    registered = world.cpo.register(world.served.base_url, created.json()["token_a"])
    assert registered.json()["status_code"] == 1000, registered.text
    world.token_c = registered.json()["data"]["token"]
    world.token_uid = world.fresh_token(world.prepaid["id"])
    with world.ocpi_client(world.token_c) as client:
        pushed = client.post("/ocpi/2.2.1/cdrs", json=world.cdr(world.token_uid))
    assert pushed.status_code == 201, pushed.text
    world.cdr_id = pushed.headers["location"].rsplit("/", 1)[1]


Call = tuple[dict[str, Any], Any]  # path parameters (and "query", "token"), JSON body (None: no body)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    roles: frozenset[str]
    success: int
    call: Callable[[World], Call] = lambda world: ({}, None)
    # The call names a resource of the seeded EMP: another EMP's key gets 404, never its data.
    foreign: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, parameters: dict[str, Any]) -> str:
        """The path with its parameters; a "query" entry holds the query string's, a "token"
        entry the OCPI token the operator calls with (else the seeded operator's token C)."""
        path = self.path.format(
            **{name: value for name, value in parameters.items() if name not in ("query", "token")}
        )
        return f"{path}?{urlencode(parameters['query'])}" if "query" in parameters else path

    def expected_for(self, caller: str) -> int:
        """The contract's status for a caller: a role, "cpo" (an OCPI token), "nobody",
        "stranger" or "other-emp"."""
        if self.roles == PUBLIC:
            return self.success
        if (self.roles == CPO) != (caller == "cpo"):
            return 401  # an API key under /ocpi/, an OCPI token elsewhere
        if caller == "cpo":
            return self.success
        if caller in ("nobody", "stranger"):
            return 401
        if caller == "other-emp":
            if "emp" not in self.roles:
                return 403
            return 404 if self.foreign else self.success
        return self.success if caller in self.roles else 403


def _customer(world: World) -> Call:
    return {"customer_id": world.prepaid["id"]}, None


def _invoice(world: World) -> Call:
    return {"invoice_id": world.invoice_id}, None


def _credit_note(world: World) -> Call:
    return {"credit_note_id": world.credit_note_id}, None


def _new_customer_body(world: World) -> Call:
    return {}, {"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}


def _session_body(world: World) -> Call:
    ended = datetime.now(UTC) - timedelta(minutes=1)
    return {}, {
        "session_id": f"S-{uuid.uuid4().hex[:12]}",
        "customer_id": world.prepaid["id"],
        "started_at": (ended - timedelta(minutes=30)).isoformat(),
        "ended_at": ended.isoformat(),
        "energy_wh": 9000,
        "cost_minor": 10,
    }


def _session_batch_body(world: World) -> Call:
    # Another EMP's key gets 200 too: its results answer 404 for a customer it cannot see.
    return {}, {"sessions": [_session_body(world)[1], _session_body(world)[1]]}


def _card_holder(world: World) -> Call:
    return {"customer_id": customer(world.tenant, "prepaid", card=CARD)["id"]}, None


def _endpoint(world: World) -> Call:
    return {"endpoint_id": world.webhook_endpoint_id}, None


def _registration(world: World) -> Call:
    party = world.fresh_party()
    return {"token": party["token_a"]}, world.credentials_of(party)


def _fresh_key(world: World) -> Call:
    created = world.admin.post(
        f"/v1/emps/{world.tenant.id}/api-keys", json={"role": "auditor", "name": "Matrix"}
    )
    assert created.status_code == 201, created.text
    return {"emp_id": world.tenant.id, "key_id": created.json()["id"]}, None


def _rotation(world: World) -> Call:
    token_c, credentials = world.fresh_connection()
    return {"token": token_c}, credentials


ROUTES = [
    Route("POST", "/v1/emps", ADMIN, 201, lambda w: ({}, {"name": "Matrix EMP", "currency": "EUR"})),
    Route(
        "POST",
        "/v1/emps/{emp_id}/api-keys",
        ADMIN,
        201,
        lambda w: ({"emp_id": w.tenant.id}, {"role": "auditor"}),
    ),
    Route(
        "GET",
        "/v1/emps/{emp_id}",
        frozenset({"admin", "emp", "support", "auditor"}),
        200,
        lambda w: ({"emp_id": w.tenant.id}, None),
        foreign=True,
    ),
    Route(
        "PATCH",
        "/v1/emps/{emp_id}",
        ADMIN,
        200,
        lambda w: ({"emp_id": w.tenant.id}, {"name": "Matrix EMP, renamed"}),
    ),
    Route(
        "POST",
        "/v1/emps/{emp_id}/test-clock/advance",
        frozenset({"admin", "emp"}),
        200,
        lambda w: ({"emp_id": w.tenant.id}, {"to": (w.clock_now() + timedelta(minutes=1)).isoformat()}),
        foreign=True,
    ),
    Route("GET", "/v1/emps", ADMIN, 200),
    Route("GET", "/v1/emps/{emp_id}/api-keys", ADMIN, 200, lambda w: ({"emp_id": w.tenant.id}, None)),
    Route("DELETE", "/v1/emps/{emp_id}/api-keys/{key_id}", ADMIN, 204, _fresh_key),
    Route("GET", "/v1/customers", READERS, 200),
    Route("POST", "/v1/customers", EMP, 201, _new_customer_body),
    Route("GET", "/v1/customers/{customer_id}", READERS, 200, _customer, foreign=True),
    Route(
        "PUT",
        "/v1/customers/{customer_id}/payment-card",
        EMP,
        200,
        lambda w: (_customer(w)[0], CARD),
        foreign=True,
    ),
    Route("DELETE", "/v1/customers/{customer_id}/payment-card", EMP, 200, _card_holder, foreign=True),
    Route("DELETE", "/v1/customers/{customer_id}/personal-data", EMP, 204, _card_holder, foreign=True),
    # The app under test takes cards through the simulated gateway: no card setup, no Stripe events.
    Route("POST", "/v1/customers/{customer_id}/card-setup", EMP, 422, _customer, foreign=True),
    Route("POST", "/v1/psp/stripe/webhooks", PUBLIC, 404, lambda w: ({}, {"id": "evt_1", "type": "ping"})),
    Route(
        "PUT",
        "/v1/customers/{customer_id}/auto-top-up",
        EMP,
        200,
        lambda w: (_customer(w)[0], {"enabled": False}),
        foreign=True,
    ),
    Route(
        "POST",
        "/v1/customers/{customer_id}/top-ups",
        EMP,
        201,
        lambda w: (_customer(w)[0], {"amount_minor": 500}),
        foreign=True,
    ),
    Route("POST", "/v1/customers/{customer_id}/authorize", EMP, 200, _customer, foreign=True),
    Route("GET", "/v1/customers/{customer_id}/transactions", READERS, 200, _customer, foreign=True),
    Route("GET", "/v1/packages", READERS, 200),
    Route(
        "POST",
        "/v1/packages",
        EMP,
        201,
        lambda w: (
            {},
            {
                "code": f"P-{uuid.uuid4().hex[:8]}",
                "name": "Night owl",
                "kind": "bolt_on",
                "recurring": False,
                "payment": "any",
                "price_minor": 300,
            },
        ),
    ),
    Route(
        "POST",
        "/v1/subscriptions",
        EMP,
        201,
        lambda w: ({}, {"customer_id": customer(w.tenant, "prepaid")["id"], "base_package": "BASE-PRE"}),
        foreign=True,
    ),
    Route(
        "GET",
        "/v1/subscriptions",
        READERS,
        200,
        lambda w: ({"query": {"customer_id": w.prepaid["id"]}}, None),
        foreign=True,
    ),
    Route(
        "POST",
        "/v1/subscriptions/{subscription_id}/end",
        EMP,
        200,
        lambda w: ({"subscription_id": w.fresh_postpaid_subscription()["id"]}, {}),
        foreign=True,
    ),
    Route(
        "POST",
        "/v1/subscriptions/{subscription_id}/base-package",
        EMP,
        200,
        lambda w: ({"subscription_id": w.fresh_postpaid_subscription()["id"]}, {"package": "BASE-POST-PLUS"}),
        foreign=True,
    ),
    Route(
        "GET",
        "/v1/subscriptions/{subscription_id}",
        READERS,
        200,
        lambda w: ({"subscription_id": w.subscription["id"]}, None),
        foreign=True,
    ),
    Route(
        "POST",
        "/v1/subscriptions/{subscription_id}/packages",
        EMP,
        201,
        lambda w: ({"subscription_id": w.fresh_subscription()["id"]}, {"package": "BOLT-PRE"}),
        foreign=True,
    ),
    Route(
        "DELETE",
        "/v1/subscriptions/{subscription_id}/packages/{package_id}",
        EMP,
        200,
        lambda w: (w.fresh_bolt_on(), None),
        foreign=True,
    ),
    Route("POST", "/v1/sessions", EMP, 201, _session_body, foreign=True),
    Route("POST", "/v1/sessions/batch", EMP, 200, _session_batch_body),
    Route(
        "GET",
        "/v1/sessions",
        READERS,
        200,
        lambda w: ({"query": {"customer_id": w.prepaid["id"], "from": "2026-01-01T00:00:00Z"}}, None),
        foreign=True,
    ),
    Route(
        "POST",
        "/v1/registrations",
        EMP,
        201,
        lambda w: ({}, {"name": "Bo Driver", "email": "bo@example.com", "account_type": "postpaid"}),
    ),
    Route("GET", "/v1/customers/{customer_id}/events", READERS, 200, _customer, foreign=True),
    Route(
        "GET",
        "/v1/subscriptions/{subscription_id}/events",
        READERS,
        200,
        lambda w: ({"subscription_id": w.subscription["id"]}, None),
        foreign=True,
    ),
    Route("GET", "/v1/customers/{customer_id}/balance", READERS, 200, _customer, foreign=True),
    Route("GET", "/v1/customers/{customer_id}/balance/explain", READERS, 200, _customer, foreign=True),
    Route(
        "POST",
        "/v1/customers/{customer_id}/adjustments",
        frozenset({"emp", "support"}),
        201,
        lambda w: (_customer(w)[0], {"amount_minor": 100, "reason": "goodwill"}),
        foreign=True,
    ),
    Route("GET", "/v1/exports/sessions", READERS, 200),
    Route("GET", "/v1/exports/transactions", READERS, 200),
    Route("GET", "/v1/audit/verify", frozenset({"auditor", "admin"}), 200),
    Route("GET", "/v1/invoices", READERS, 200),
    Route(
        "GET",
        "/v1/invoices/{invoice_id}",
        READERS,
        200,
        lambda w: ({"invoice_id": w.invoice_id}, None),
        foreign=True,
    ),
    *(
        Route("GET", f"/v1/invoices/{{invoice_id}}/{kind}", READERS, 200, _invoice, foreign=True)
        for kind in ("pdf", "ubl")
    ),
    Route(
        "POST",
        "/v1/invoices/{invoice_id}/payments",
        EMP,
        201,
        lambda w: (
            _invoice(w)[0],
            {"amount_minor": 1, "paid_at": "2020-01-01T00:00:00Z", "reference": "bank"},
        ),
        foreign=True,
    ),
    Route(
        "POST",
        "/v1/invoices/{invoice_id}/credit-notes",
        frozenset({"emp", "support"}),
        201,
        lambda w: (_invoice(w)[0], {"reason": "goodwill", "lines": [{"line": 1, "amount_minor": 1}]}),
        foreign=True,
    ),
    Route("GET", "/v1/credit-notes", READERS, 200),
    *(
        Route("GET", f"/v1/credit-notes/{{credit_note_id}}{tail}", READERS, 200, _credit_note, foreign=True)
        for tail in ("", "/pdf", "/ubl")
    ),
    Route(
        "PATCH",
        "/v1/customers/{customer_id}",
        EMP,
        200,
        lambda w: (_customer(w)[0], {"name": "Ann Driver"}),
        foreign=True,
    ),
    Route(
        "POST",
        "/v1/jobs/{job}/runs",
        ADMIN,
        200,
        lambda w: ({"job": "invoice-production"}, {"as_of": datetime.now(UTC).isoformat()}),
    ),
    Route("GET", "/v1/jobs/runs", ADMIN, 200),
    Route("POST", "/v1/webhook-endpoints", EMP, 201, lambda w: ({}, {"url": HOOK_URL})),
    Route("GET", "/v1/webhook-endpoints", EMP, 200),
    Route("GET", "/v1/webhook-endpoints/{endpoint_id}", EMP, 200, _endpoint, foreign=True),
    Route(
        "PATCH",
        "/v1/webhook-endpoints/{endpoint_id}",
        EMP,
        200,
        lambda w: (_endpoint(w)[0], {"description": "the CRM"}),
        foreign=True,
    ),
    Route(
        "DELETE",
        "/v1/webhook-endpoints/{endpoint_id}",
        EMP,
        204,
        lambda w: ({"endpoint_id": w.fresh_webhook_endpoint()}, None),
        foreign=True,
    ),
    Route("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret", EMP, 200, _endpoint, foreign=True),
    Route("GET", "/v1/webhook-endpoints/{endpoint_id}/messages", EMP, 200, _endpoint, foreign=True),
    Route(
        "POST",
        "/v1/webhook-endpoints/{endpoint_id}/messages/{message_id}/retry",
        EMP,
        202,
        lambda w: (w.webhook_message(), None),
        foreign=True,
    ),
    Route("GET", "/v1/events", READERS, 200),
    Route(
        "POST",
        "/v1/ocpi/parties",
        EMP,
        201,
        lambda w: ({}, {**_party_codes(), "name": "Matrix CPO"}),
    ),
    Route("GET", "/v1/ocpi/parties", READERS, 200),
    Route("GET", "/v1/ocpi/unmatched-cdrs", READERS, 200),
    Route(
        "POST",
        "/v1/ocpi/unmatched-cdrs/{cdr_id}/assign",
        EMP,
        200,
        lambda w: ({"cdr_id": w.fresh_unmatched_cdr()}, {"customer_id": w.postpaid["id"]}),
        foreign=True,
    ),
    Route(
        "POST",
        "/v1/customers/{customer_id}/tokens",
        EMP,
        201,
        lambda w: (
            _customer(w)[0],
            {"uid": f"N{uuid.uuid4().hex[:12].upper()}", "type": "RFID", "contract_id": "FI-VLT-1"},
        ),
        foreign=True,
    ),
    Route(
        "DELETE",
        "/v1/customers/{customer_id}/tokens/{uid}",
        EMP,
        200,
        lambda w: ({**_customer(w)[0], "uid": w.fresh_token(w.prepaid["id"])}, None),
        foreign=True,
    ),
    Route("GET", "/ocpi/versions", CPO, 200),
    Route("GET", "/ocpi/2.2.1", CPO, 200),
    Route("GET", "/ocpi/2.2.1/credentials", CPO, 200),
    Route("POST", "/ocpi/2.2.1/credentials", CPO, 200, _registration),
    Route("PUT", "/ocpi/2.2.1/credentials", CPO, 200, _rotation),
    Route(
        "DELETE", "/ocpi/2.2.1/credentials", CPO, 200, lambda w: ({"token": w.fresh_connection()[0]}, None)
    ),
    Route("POST", "/ocpi/2.2.1/cdrs", CPO, 201, lambda w: ({}, w.cdr(w.token_uid))),
    Route("GET", "/ocpi/2.2.1/cdrs/{cdr_id}", CPO, 200, lambda w: ({"cdr_id": w.cdr_id}, None)),
    Route("GET", "/ocpi/2.2.1/tokens", CPO, 200),
    Route(
        "POST",
        "/ocpi/2.2.1/tokens/{token_uid}/authorize",
        CPO,
        200,
        lambda w: ({"token_uid": w.token_uid}, {"location_id": "LOC1"}),
    ),
    Route("GET", "/health", PUBLIC, 200),
    Route("GET", "/metrics", PUBLIC, 200),
]
