"""Keys listed, named and revoked; EMPs listed; customers filtered and searched; sessions
listed; query parameters a route does not know refused (api-contract.md "Keys, customers,
lists"), over real HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import ServedApp, Tenant, context_for, serving
from tests.e2e.ledger_story import CARD, customer, refused_soon, session


def pages(client: httpx.Client, url: str, **params: Any) -> list[dict]:
    """Every item of a list, page by page."""
    items: list[dict] = []
    cursor = None
    while True:
        response = client.get(url, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


def named_key(admin: httpx.Client, tenant: Tenant, role: str, name: str) -> dict:
    created = admin.post(f"/v1/emps/{tenant.id}/api-keys", json={"role": role, "name": name})
    assert created.status_code == 201, created.text
    body: dict = created.json()
    return body


def test_keys_are_listed_with_their_holder_and_last_use_never_the_key(
    served: ServedApp, admin: httpx.Client, tenant: Tenant
) -> None:
    created = named_key(admin, tenant, "support", "Jane Support")
    assert (created["role"], created["name"], created["emp_id"]) == ("support", "Jane Support", tenant.id)

    listed = admin.get(f"/v1/emps/{tenant.id}/api-keys")

    assert listed.status_code == 200, listed.text
    assert created["key"] not in listed.text and "secret" not in listed.text
    by_id = {item["id"]: item for item in listed.json()["items"]}
    assert set(by_id) >= {created["id"]} and len(by_id) == 4  # the tenant's three and this one
    jane = by_id[created["id"]]
    assert set(jane) == {"id", "role", "name", "created_at", "last_used_at"}
    assert (jane["role"], jane["name"], jane["last_used_at"]) == ("support", "Jane Support", None)
    assert jane["created_at"].endswith("Z")

    with served.client(created["key"]) as jane_client:
        assert jane_client.get("/v1/customers").status_code == 200
    used = {item["id"]: item for item in pages(admin, f"/v1/emps/{tenant.id}/api-keys", limit=1)}
    assert used[created["id"]]["last_used_at"].endswith("Z")
    assert used.keys() == by_id.keys()  # paged one by one: the same keys


def test_a_revoked_key_is_refused_by_every_process(
    served: ServedApp, admin: httpx.Client, tenant: Tenant
) -> None:
    key = named_key(admin, tenant, "emp", "CI integration")
    with (
        serving(context_for(served.system), served.system) as another_server,
        served.client(key["key"]) as here,
        another_server.client(key["key"]) as there,
    ):
        assert here.get("/v1/customers").status_code == 200
        assert there.get("/v1/customers").status_code == 200

        revoked = admin.delete(f"/v1/emps/{tenant.id}/api-keys/{key['id']}")

        assert revoked.status_code == 204, revoked.text
        assert here.get("/v1/customers").status_code == 401  # the process that revoked it: at once
        refused = refused_soon(there, "/v1/customers")  # another: when it hears the NOTIFY
        assert refused.json()["type"].endswith("/unauthorized")
    listed = admin.get(f"/v1/emps/{tenant.id}/api-keys").json()["items"]
    assert key["id"] not in {item["id"] for item in listed}
    again = admin.delete(f"/v1/emps/{tenant.id}/api-keys/{key['id']}")
    assert again.status_code == 404


def test_revoking_an_unknown_key_or_another_emps_key_is_not_found(
    admin: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    others = named_key(admin, other_tenant, "emp", "Other EMP")

    unknown = admin.delete(f"/v1/emps/{tenant.id}/api-keys/{uuid.uuid4()}")
    cross = admin.delete(f"/v1/emps/{tenant.id}/api-keys/{others['id']}")

    assert unknown.status_code == 404 and unknown.json()["type"].endswith("/not-found")
    assert cross.status_code == 404
    assert admin.get(f"/v1/emps/{uuid.uuid4()}/api-keys").status_code == 404
    with other_tenant.served.client(others["key"]) as still:
        assert still.get("/v1/customers").status_code == 200
    for role in ("emp", "support", "auditor"):
        client = tenant.as_role(role)
        assert client.get(f"/v1/emps/{tenant.id}/api-keys").status_code == 403
        assert client.delete(f"/v1/emps/{tenant.id}/api-keys/{others['id']}").status_code == 403


def test_a_key_holder_is_named_in_the_histories(
    served: ServedApp, admin: httpx.Client, tenant: Tenant
) -> None:
    ann = customer(tenant, card=CARD)
    jane = named_key(admin, tenant, "support", "Jane Support")
    with served.client(jane["key"]) as support:
        adjusted = support.post(
            f"/v1/customers/{ann['id']}/adjustments", json={"amount_minor": 500, "reason": "Goodwill"}
        )
    assert adjusted.status_code == 201, adjusted.text
    signature = f"api-key:{jane['id']} (Jane Support)"
    assert adjusted.json()["recorded_by"] == signature

    events = tenant.emp.get(f"/v1/customers/{ann['id']}/events").json()["items"]
    lines = tenant.emp.get(f"/v1/customers/{ann['id']}/balance/explain").json()["lines"]

    assert events[-1]["data"]["caused_by"] == signature
    assert lines[-1]["caused_by"] == signature


def test_key_names_are_one_line_of_text(admin: httpx.Client, tenant: Tenant) -> None:
    for name in ("", "   ", "Jane\nSupport", "x" * 101, 7):
        refused = admin.post(f"/v1/emps/{tenant.id}/api-keys", json={"role": "emp", "name": name})
        assert refused.status_code == 400, (name, refused.text)
        assert refused.json()["errors"][0]["field"] == "name"


def test_the_admin_lists_every_emp(admin: httpx.Client, tenant: Tenant, other_tenant: Tenant) -> None:
    emps = pages(admin, "/v1/emps", limit=2)

    by_id = {emp["id"]: emp for emp in emps}
    assert {tenant.id, other_tenant.id} <= set(by_id)
    assert by_id[tenant.id] == admin.get(f"/v1/emps/{tenant.id}").json()
    assert len(by_id) == len(emps)  # no EMP twice across pages
    assert tenant.emp.get("/v1/emps").status_code == 403


def test_customers_are_filtered_by_external_ref_and_email(tenant: Tenant, other_tenant: Tenant) -> None:
    def register(name: str, email: str, ref: str | None = None, emp: Tenant = tenant) -> dict:
        body = {"name": name, "email": email, "account_type": "prepaid", "external_ref": ref}
        response = emp.emp.post("/v1/customers", json={k: v for k, v in body.items() if v is not None})
        assert response.status_code == 201, response.text
        registered: dict = response.json()
        return registered

    ann = register("Ann Driver", "Ann.Driver@Example.com", "crm-1")
    register("Bob Driver", "bob@example.com", "crm-2")
    register("Ann Elsewhere", "ann.driver@example.com", "crm-1", emp=other_tenant)

    by_ref = tenant.emp.get("/v1/customers", params={"external_ref": "crm-1"}).json()
    by_email = tenant.emp.get("/v1/customers", params={"email": "ann.driver@EXAMPLE.com"}).json()
    neither = tenant.emp.get("/v1/customers", params={"external_ref": "crm-1", "email": "bob@example.com"})
    unknown = tenant.emp.get("/v1/customers", params={"external_ref": "x"}).json()

    assert [c["id"] for c in by_ref["items"]] == [ann["id"]]
    assert [c["id"] for c in by_email["items"]] == [ann["id"]]
    assert neither.json()["items"] == []
    assert unknown == {"items": [], "next_cursor": None}


def test_customer_search_ignores_case_and_accents_and_pages(tenant: Tenant) -> None:
    names = ["Zoë Ångström", "ZOE ANGSTROM", "zoe angstrom", "Chloé 100%", "Ann Driver"]
    ids = {}
    for n, name in enumerate(names):
        ids[name] = customer(tenant, name=name)["id"]
        assert n == 0 or ids[name] != ids[names[0]]

    def found(q: str, **params: Any) -> list[str]:
        return [c["name"] for c in pages(tenant.as_role("support"), "/v1/customers", q=q, **params)]

    assert found("zoe angstrom") == names[:3]
    assert found("ÅNGSTRÖM", limit=1) == names[:3]  # one a page, the filter holds on every page
    assert found("chloe") == ["Chloé 100%"]
    assert found("100%") == ["Chloé 100%"] and found("%") == ["Chloé 100%"]
    assert found("example.com") == names  # the e-mail too
    assert found("nobody") == []
    renamed = tenant.emp.patch(f"/v1/customers/{ids['Ann Driver']}", json={"name": "Ánna Ďriver"})
    assert renamed.status_code == 200, renamed.text
    assert found("anna driver") == ["Ánna Ďriver"] and found("Ann Driver") == []  # the new name only


def test_sessions_are_listed_by_customer_and_period(tenant: Tenant, other_tenant: Tenant) -> None:
    ann = customer(tenant, card=CARD, name="Ann")
    bob = customer(tenant, card=CARD, name="Bob")
    for who, ended in (
        (ann, "2026-03-01T10:00:00Z"),
        (bob, "2026-03-02T10:00:00Z"),
        (ann, "2026-03-03T10:00:00Z"),
    ):
        recorded = session(tenant, who["id"], 100, started_at="2026-03-01T09:00:00Z", ended_at=ended)
        assert recorded.status_code == 201, recorded.text

    everything = pages(tenant.emp, "/v1/sessions", limit=1)
    anns = pages(tenant.as_role("auditor"), "/v1/sessions", customer_id=ann["id"])
    march_2 = pages(
        tenant.as_role("support"),
        "/v1/sessions",
        **{"from": "2026-03-02T11:00:00+01:00", "to": "2026-03-03T10:00:00Z"},
    )

    assert [s["ended_at"] for s in everything] == [
        "2026-03-01T10:00:00Z",
        "2026-03-02T10:00:00Z",
        "2026-03-03T10:00:00Z",
    ]
    first = everything[0]
    assert (first["customer_id"], first["cost_minor"], first["currency"], first["energy_wh"]) == (
        ann["id"],
        100,
        "EUR",
        12_500,
    )
    assert set(first) >= {"session_id", "started_at", "location", "recorded_at", "invoice_id"}
    assert [s["customer_id"] for s in anns] == [ann["id"], ann["id"]]
    assert [s["customer_id"] for s in march_2] == [bob["id"]]  # from inclusive, to exclusive
    assert other_tenant.emp.get("/v1/sessions").json()["items"] == []
    assert other_tenant.emp.get("/v1/sessions", params={"customer_id": ann["id"]}).status_code == 404


def test_session_list_instants_are_checked(tenant: Tenant) -> None:
    malformed = tenant.emp.get("/v1/sessions", params={"from": "yesterday"})
    naive = tenant.emp.get("/v1/sessions", params={"to": "2026-03-01T10:00:00"})
    backwards = tenant.emp.get(
        "/v1/sessions", params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    )
    not_an_id = tenant.emp.get("/v1/sessions", params={"customer_id": "ann"})

    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "from"
    assert naive.status_code == 400 and naive.json()["errors"][0]["field"] == "to"
    assert backwards.status_code == 422 and backwards.json()["type"].endswith("/invalid-period")
    assert not_an_id.status_code == 400 and "customer_id" in not_an_id.text


def test_a_query_parameter_a_route_does_not_know_is_refused(
    served: ServedApp, admin: httpx.Client, tenant: Tenant
) -> None:
    customer(tenant)
    typo = tenant.emp.get("/v1/customers", params={"externalref": "x"})
    on_a_post = tenant.emp.post("/v1/packages?dry_run=1", json={})
    as_admin = admin.get("/v1/emps", params={"limit": 5, "offset": 10})
    without_a_key = httpx.get(f"{served.base_url}/v1/customers?externalref=x")

    assert typo.status_code == 400, typo.text
    problem = typo.json()
    assert problem["type"].endswith("/validation-error")
    assert problem["errors"] == [{"field": "externalref", "message": problem["detail"]}]
    assert "external_ref" in problem["detail"]  # what the route does take
    assert on_a_post.status_code == 400 and on_a_post.json()["errors"][0]["field"] == "dry_run"
    assert as_admin.status_code == 400 and as_admin.json()["errors"][0]["field"] == "offset"
    assert without_a_key.status_code == 401  # who asks is checked first
    assert tenant.emp.get("/v1/customers", params={"limit": 1}).status_code == 200


def test_ocpi_answers_an_unknown_query_parameter_in_an_envelope(served: ServedApp) -> None:
    unknown = httpx.get(f"{served.base_url}/ocpi/2.2.1/tokens?offset=0&page=2")
    known = httpx.get(f"{served.base_url}/ocpi/2.2.1/tokens?offset=0&limit=5&date_from=2026-01-01T00:00:00Z")

    assert unknown.status_code == 400
    assert unknown.json()["status_code"] == 2001 and "page" in unknown.json()["status_message"]
    assert known.status_code == 401 and known.json()["status_code"] != 2001  # known: then the token
