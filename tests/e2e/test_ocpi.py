"""OCPI 2.2.1 over real HTTP both ways: a test CPO (tests/ocpi_cpo.py: a local server for its
versions endpoints, an httpx client for its calls) connects to an EMP, pushes CDRs, pulls
tokens and asks for real-time authorization. Money is exact in every case."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import ServedApp, Tenant, make_tenant
from tests.e2e.ledger_story import CARD, customer, top_up
from tests.ocpi_cpo import LocalCpo, cdr_json, official_cdr, recent, token_header


@dataclass
class Connection:
    """A tenant connected with a CPO: the party, its tokens and an OCPI client with token C."""

    tenant: Tenant
    cpo: LocalCpo
    party: dict[str, Any]
    token_c: str
    ocpi: httpx.Client

    def push(self, cdr: dict[str, Any], **decimals: str) -> httpx.Response:
        return self.ocpi.post(
            "/ocpi/2.2.1/cdrs",
            content=cdr_json(cdr, **decimals),
            headers={"content-type": "application/json"},
        )

    def cdr(self, uid: str, **changes: Any) -> dict[str, Any]:
        return official_cdr(
            country_code=self.cpo.country_code, party_id=self.cpo.party_id, uid=uid, **changes
        )


def ocpi_tenant(served: ServedApp, admin: httpx.Client, party_id: str = "VLT") -> Tenant:
    tenant = make_tenant(served, admin)
    changed = admin.patch(
        f"/v1/emps/{tenant.id}", json={"ocpi": {"country_code": "fi", "party_id": party_id}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["ocpi"] == {"country_code": "FI", "party_id": party_id}
    return tenant


def create_party(tenant: Tenant, cpo: LocalCpo, markup_bp: int = 0) -> dict[str, Any]:
    created = tenant.emp.post(
        "/v1/ocpi/parties",
        json={
            "country_code": cpo.country_code,
            "party_id": cpo.party_id,
            "name": "Example Operator",
            "markup_bp": markup_bp,
        },
    )
    assert created.status_code == 201, created.text
    party: dict[str, Any] = created.json()
    return party


@pytest.fixture
def cpo() -> Iterator[LocalCpo]:
    started = LocalCpo()
    yield started
    started.stop()


@pytest.fixture
def connection(served: ServedApp, admin: httpx.Client, cpo: LocalCpo) -> Iterator[Connection]:
    tenant = ocpi_tenant(served, admin)
    party = create_party(tenant, cpo, markup_bp=500)
    registered = cpo.register(served.base_url, party["token_a"])
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert body["status_code"] == 1000, body
    with cpo.client(served.base_url, body["data"]["token"]) as ocpi:
        yield Connection(tenant, cpo, party, body["data"]["token"], ocpi)
    tenant.close()


def with_token(
    tenant: Tenant, account_type: str, uid: str | None = None, **card: Any
) -> tuple[dict[str, Any], str]:
    made = customer(tenant, account_type, **card)
    uid = uid or f"RFID{uuid.uuid4().hex[:10].upper()}"
    issued = tenant.emp.post(
        f"/v1/customers/{made['id']}/tokens",
        json={"uid": uid, "type": "RFID", "contract_id": f"FI-VLT-{uid[:8]}"},
    )
    assert issued.status_code == 201, issued.text
    return made, uid


def transactions(tenant: Tenant, customer_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = tenant.emp.get(f"/v1/customers/{customer_id}/transactions").json()["items"]
    return items


# --- the handshake -------------------------------------------------------------------------


def test_the_cpo_registers_with_token_a_and_gets_token_c(
    served: ServedApp, admin: httpx.Client, cpo: LocalCpo
) -> None:
    tenant = ocpi_tenant(served, admin)
    party = create_party(tenant, cpo)
    assert party["status"] == "pending"
    assert party["versions_url"] == f"{served.base_url}/ocpi/versions"

    with cpo.client(served.base_url, party["token_a"]) as with_a:
        versions = with_a.get(
            "/ocpi/versions", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
        )
        details = with_a.get("/ocpi/2.2.1")
        assert with_a.get("/ocpi/2.2.1/tokens").status_code == 401  # token A: not for other modules
    assert versions.status_code == 200, versions.text
    assert versions.json()["data"] == [{"version": "2.2.1", "url": f"{served.base_url}/ocpi/2.2.1"}]
    assert (versions.headers["x-request-id"], versions.headers["x-correlation-id"]) == ("req-1", "corr-1")
    assert versions.json()["timestamp"].endswith("Z")
    modules = {(e["identifier"], e["role"]): e["url"] for e in details.json()["data"]["endpoints"]}
    assert modules == {
        ("credentials", "SENDER"): f"{served.base_url}/ocpi/2.2.1/credentials",
        ("cdrs", "RECEIVER"): f"{served.base_url}/ocpi/2.2.1/cdrs",
        ("tokens", "SENDER"): f"{served.base_url}/ocpi/2.2.1/tokens",
    }

    registered = cpo.register(served.base_url, party["token_a"])

    assert registered.status_code == 200, registered.text
    ours = registered.json()["data"]
    assert ours["url"] == f"{served.base_url}/ocpi/versions"
    assert ours["roles"] == [
        {
            "role": "EMSP",
            "business_details": {"name": tenant_name(tenant)},
            "party_id": "VLT",
            "country_code": "FI",
        }
    ]
    # chargeledger read the CPO's versions and details with token B, base64-encoded.
    assert [seen.path for seen in cpo.seen] == ["/ocpi/versions", "/ocpi/2.2.1"]
    assert {seen.headers["authorization"] for seen in cpo.seen} == {token_header(cpo.token_b)}
    with cpo.client(served.base_url, party["token_a"]) as with_a:
        assert with_a.get("/ocpi/versions").status_code == 401  # token A stopped working
        again = with_a.post("/ocpi/2.2.1/credentials", json=cpo.credentials())
    assert again.status_code == 401 and again.json()["status_code"] == 2000
    with cpo.client(served.base_url, ours["token"]) as with_c:
        assert with_c.get("/ocpi/versions").status_code == 200
        assert with_c.get("/ocpi/2.2.1/credentials").json()["data"]["token"] == ours["token"]
        assert with_c.post("/ocpi/2.2.1/credentials", json=cpo.credentials()).status_code == 405
    with cpo.client(served.base_url, ours["token"], raw=True) as raw:
        assert raw.get("/ocpi/versions").status_code == 200  # an unencoded token is accepted too
    [listed] = tenant.emp.get("/v1/ocpi/parties").json()["items"]
    assert (listed["id"], listed["status"], "token_a" in listed) == (party["id"], "connected", False)
    tenant.close()


def tenant_name(tenant: Tenant) -> str:
    name: str = tenant.emp.get(f"/v1/emps/{tenant.id}").json()["name"]
    return name
