"""OCPI 2.2.1 over real HTTP both ways: a test CPO (tests/ocpi_cpo.py: a local server for its
versions endpoints, an httpx client for its calls) connects to an EMP, pushes CDRs, pulls
tokens and asks for real-time authorization. Money is exact in every case."""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import ServedApp, Tenant, context_for, make_tenant, serving
from tests.e2e.ledger_story import CARD, advance, customer, define_catalog, subscribe, top_up
from tests.ocpi_cpo import (
    EXAMPLES,
    Connection,
    LocalCpo,
    connect,
    create_party,
    ocpi_tenant,
    recent,
    token_header,
    with_token,
)


@pytest.fixture
def cpo() -> Iterator[LocalCpo]:
    started = LocalCpo()
    yield started
    started.stop()


@pytest.fixture
def connection(served: ServedApp, admin: httpx.Client, cpo: LocalCpo) -> Iterator[Connection]:
    connected = connect(served, admin, cpo, markup_bp=500)
    yield connected
    connected.ocpi.close()
    connected.tenant.close()


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


def test_an_unreachable_cpo_gets_3001_and_may_register_again(
    served: ServedApp, admin: httpx.Client, cpo: LocalCpo
) -> None:
    tenant = ocpi_tenant(served, admin)
    party = create_party(tenant, cpo)
    cpo.down = True

    refused = cpo.register(served.base_url, party["token_a"])

    assert (refused.status_code, refused.json()["status_code"]) == (200, 3001)
    assert "data" not in refused.json() or refused.json()["data"] is None
    [listed] = tenant.emp.get("/v1/ocpi/parties").json()["items"]
    assert listed["status"] == "pending"
    with cpo.client(served.base_url, party["token_a"]) as with_a:
        assert with_a.get("/ocpi/versions").status_code == 200  # token A still works
    cpo.down = False
    registered = cpo.register(served.base_url, party["token_a"])
    assert registered.json()["status_code"] == 1000
    tenant.close()


def test_a_cpo_that_gives_a_wrong_token_b_is_not_connected(
    served: ServedApp, admin: httpx.Client, cpo: LocalCpo
) -> None:
    tenant = ocpi_tenant(served, admin)
    party = create_party(tenant, cpo)
    credentials = {**cpo.credentials(), "token": "not-the-token-its-server-knows"}
    with cpo.client(served.base_url, party["token_a"]) as with_a:
        refused = with_a.post("/ocpi/2.2.1/credentials", json=credentials)
        other_party = with_a.post(
            "/ocpi/2.2.1/credentials",
            json={**cpo.credentials(), "roles": [{**cpo.credentials()["roles"][0], "party_id": "ZZZ"}]},
        )
    assert (refused.status_code, refused.json()["status_code"]) == (200, 3001)
    assert (other_party.status_code, other_party.json()["status_code"]) == (200, 2001)
    tenant.close()


def test_parties_need_the_emps_ocpi_identity_first(
    served: ServedApp, admin: httpx.Client, cpo: LocalCpo
) -> None:
    tenant = make_tenant(served, admin)
    refused = tenant.emp.post(
        "/v1/ocpi/parties", json={"country_code": "NL", "party_id": "EXA", "name": "Example"}
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/validation-error")
    assert refused.json()["errors"][0]["field"] == "ocpi"
    tenant.close()


def test_rotation_gives_a_new_token_c_and_the_old_one_stops(
    connection: Connection, served: ServedApp
) -> None:
    cpo = connection.cpo
    cpo.token_b = "rotated-" + cpo.token_b

    rotated = connection.ocpi.put("/ocpi/2.2.1/credentials", json=cpo.credentials())

    assert rotated.status_code == 200, rotated.text
    new_c = rotated.json()["data"]["token"]
    assert new_c != connection.token_c
    assert connection.ocpi.get("/ocpi/versions").status_code == 401
    with cpo.client(served.base_url, new_c) as fresh:
        assert fresh.get("/ocpi/2.2.1/tokens").status_code == 200
    assert cpo.seen[-1].headers["authorization"] == token_header(cpo.token_b)


def test_unregistering_ends_the_connection_for_good(
    connection: Connection, served: ServedApp, cpo: LocalCpo
) -> None:
    pending = create_party(connection.tenant, LocalCpo(party_id="PND"))
    with cpo.client(served.base_url, pending["token_a"]) as with_a:
        assert with_a.delete("/ocpi/2.2.1/credentials").status_code == 405  # not registered
        assert with_a.put("/ocpi/2.2.1/credentials", json=cpo.credentials()).status_code == 405

    gone = connection.ocpi.delete("/ocpi/2.2.1/credentials")

    assert (gone.status_code, gone.json()["status_code"]) == (200, 1000)
    after = connection.ocpi.get("/ocpi/versions")
    assert (after.status_code, after.json()["status_code"]) == (401, 2000)
    statuses = {
        p["party_id"]: p["status"] for p in connection.tenant.emp.get("/v1/ocpi/parties").json()["items"]
    }
    assert statuses == {"EXA": "unregistered", "PND": "pending"}


def test_ocpi_errors_are_envelopes(connection: Connection) -> None:
    nobody = httpx.get(f"{connection.ocpi.base_url}/ocpi/2.2.1/tokens", headers={"X-Request-ID": "r-9"})
    broken = connection.ocpi.post(
        "/ocpi/2.2.1/cdrs", content=b"{not json", headers={"content-type": "application/json"}
    )
    unknown = connection.ocpi.get(f"/ocpi/2.2.1/cdrs/{uuid.uuid4()}")
    bearer = httpx.get(
        f"{connection.ocpi.base_url}/ocpi/versions",
        headers={"Authorization": f"Bearer {connection.tenant.keys['emp']}"},
    )

    assert (nobody.status_code, nobody.json()["status_code"], nobody.headers["x-request-id"]) == (
        401,
        2000,
        "r-9",
    )
    assert (broken.status_code, broken.json()["status_code"]) == (400, 2001)
    assert (unknown.status_code, unknown.json()["status_code"]) == (404, 2000)
    assert bearer.status_code == 401
    for answer in (nobody, broken, unknown, bearer):
        assert answer.headers["content-type"].startswith("application/json")
        assert set(answer.json()) <= {"status_code", "status_message", "timestamp", "data"}


# --- CDRs ----------------------------------------------------------------------------------


def test_a_cdr_is_charged_once_as_the_token_holders_session(
    connection: Connection, served: ServedApp
) -> None:
    tenant = connection.tenant
    ann, uid = with_token(tenant, "postpaid")
    cdr = connection.cdr(uid)

    as_written = {"total_cost.excl_vat": "4.00", "total_cost.incl_vat": "4.40"}  # the example's digits
    pushed = connection.push(cdr, **as_written)
    again = connection.push(cdr, **as_written)

    assert (pushed.status_code, pushed.json()["status_code"]) == (201, 1000), pushed.text
    location = pushed.headers["location"]
    assert location.startswith(f"{served.base_url}/ocpi/2.2.1/cdrs/")
    assert (again.status_code, again.json()["status_code"], again.headers["location"]) == (
        201,
        1000,
        location,
    )
    stored = connection.ocpi.get(location.removeprefix(served.base_url))
    assert stored.status_code == 200
    assert stored.json()["data"] == cdr  # as received, numbers as sent
    assert b'"incl_vat":4.40' in stored.content.replace(b" ", b"")
    [charged] = transactions(tenant, ann["id"])
    # 4.40 EUR incl. VAT, and the EMP's 5 % markup on this operator: 462 cents.
    assert (charged["type"], charged["amount_minor"], charged["reference"]) == (
        "session",
        -462,
        f"NL*EXA*{cdr['id']}",
    )
    exported = tenant.emp.get("/v1/exports/sessions", params={"from": "2015-01-01T00:00:00Z"}).text
    # The row's own fields: ids and times elsewhere in the file may hold "15342" by chance.
    [row] = [
        row for row in csv.DictReader(io.StringIO(exported)) if row["session_id"] == f"NL*EXA*{cdr['id']}"
    ]
    assert row["energy_wh"] == "15342"


def test_the_same_cdr_id_with_other_data_is_refused(connection: Connection) -> None:
    ann, uid = with_token(connection.tenant, "postpaid")
    cdr = connection.cdr(uid)
    assert connection.push(cdr).status_code == 201

    changed = connection.push({**cdr, "total_cost": {"excl_vat": 5.00, "incl_vat": 5.50}})

    assert (changed.status_code, changed.json()["status_code"]) == (200, 2001)
    assert [t["amount_minor"] for t in transactions(connection.tenant, ann["id"])] == [-462]


def test_a_credit_cdr_credits_the_original_customer(connection: Connection) -> None:
    tenant = connection.tenant
    ann, uid = with_token(tenant, "prepaid")
    original = connection.cdr(uid)
    assert connection.push(original).status_code == 201
    credit = {
        **copy.deepcopy(original),
        "id": original["id"] + "-C",
        "credit": True,
        "credit_reference_id": original["id"],
        "total_cost": {"excl_vat": -2.00, "incl_vat": -2.20},
    }
    credit["cdr_token"]["uid"] = "SOMEONE-ELSE"  # the credit goes to whoever paid the original

    credited = connection.push(credit, **{"total_cost.excl_vat": "-2.00", "total_cost.incl_vat": "-2.20"})

    assert (credited.status_code, credited.json()["status_code"]) == (201, 1000), credited.text
    moves = [(t["type"], t["amount_minor"]) for t in transactions(tenant, ann["id"])]
    assert moves == [("session", -462), ("session_credit", 231)]  # 2.20 and 5 % back
    explained = tenant.emp.get(f"/v1/customers/{ann['id']}/balance/explain").json()
    assert explained["balance_minor"] == -231
    [credit_line] = [line for line in explained["lines"] if line["type"] == "SessionCredited"]
    assert (credit_line["delta_minor"], credit_line["cause"]["credited_session_id"]) == (
        231,
        f"NL*EXA*{original['id']}",
    )
    exported = tenant.emp.get("/v1/exports/transactions", params={"format": "ndjson"}).text
    assert '"session_credit"' in exported
    unknown_reference = connection.push({**credit, "id": "X-C", "credit_reference_id": "NO-SUCH-CDR"})
    assert (unknown_reference.status_code, unknown_reference.json()["status_code"]) == (200, 2001)


def test_a_cdr_nobody_holds_the_token_of_is_parked_and_can_be_assigned(
    connection: Connection, served: ServedApp, admin: httpx.Client
) -> None:
    tenant = connection.tenant
    cdr = connection.cdr("UNKNOWN-" + uuid.uuid4().hex[:8])

    parked = connection.push(cdr)

    assert (parked.status_code, parked.json()["status_code"]) == (201, 1000)
    [listed] = tenant.emp.get("/v1/ocpi/unmatched-cdrs").json()["items"]
    assert (listed["session_id"], listed["cost_minor"], listed["token_uid"]) == (
        f"NL*EXA*{cdr['id']}",
        462,
        cdr["cdr_token"]["uid"],
    )
    bob = customer(tenant, "postpaid")
    other = make_tenant(served, admin)
    stranger = customer(other, "postpaid")
    url = f"/v1/ocpi/unmatched-cdrs/{listed['id']}/assign"
    assert tenant.emp.post(url, json={"customer_id": stranger["id"]}).status_code == 404

    assigned = tenant.emp.post(url, json={"customer_id": bob["id"]})

    assert assigned.status_code == 200, assigned.text
    assert tenant.emp.post(url, json={"customer_id": bob["id"]}).status_code == 409
    assert tenant.emp.get("/v1/ocpi/unmatched-cdrs").json()["items"] == []
    assert [t["amount_minor"] for t in transactions(tenant, bob["id"])] == [-462]
    other.close()


@pytest.mark.parametrize(
    ("change", "decimals"),
    [
        ({"currency": "SEK"}, {}),  # not the EMP's currency
        ({"total_cost": None}, {}),  # a required field missing
        ({}, {"total_cost.incl_vat": "4.405"}),  # a digit beyond the cent
        ({"total_cost": {"excl_vat": -4.0, "incl_vat": -4.4}}, {}),  # negative but not a credit
        ({"country_code": "BE", "party_id": "BEC"}, {}),  # another operator's CDR
        ({"cdr_location": "Gent"}, {}),  # a malformed field
        ({"id": "x" * 37}, {}),  # longer than a CDR id may be
    ],
    ids=[
        "wrong-currency",
        "missing-total-cost",
        "excess-decimal",
        "negative",
        "other-party",
        "malformed",
        "long-id",
    ],
)
def test_a_refused_cdr_records_nothing(
    connection: Connection, change: dict[str, Any], decimals: dict[str, str]
) -> None:
    ann, uid = with_token(connection.tenant, "postpaid")
    cdr = {key: value for key, value in {**connection.cdr(uid), **change}.items() if value is not None}

    refused = connection.push(cdr, **decimals)

    assert (refused.status_code, refused.json()["status_code"]) == (200, 2001), refused.text
    assert refused.json()["status_message"]
    assert transactions(connection.tenant, ann["id"]) == []
    assert connection.tenant.emp.get("/v1/ocpi/unmatched-cdrs").json()["items"] == []


def test_trailing_zeros_are_fine_and_energy_is_rounded_half_even(connection: Connection) -> None:
    _, uid = with_token(connection.tenant, "postpaid")
    cdr = connection.cdr(uid, **recent())

    pushed = connection.push(cdr, **{"total_cost.incl_vat": "4.4000", "total_energy": "15.3425"})

    assert pushed.status_code == 201, pushed.text
    [row] = [
        line
        for line in connection.tenant.emp.get(
            "/v1/exports/sessions", params={"format": "ndjson"}
        ).text.splitlines()
        if cdr["id"] in line
    ]
    session = json.loads(row)
    assert (session["cost_minor"], session["energy_wh"]) == (462, 15342)
    assert session["location"] == "LOC1 BE*BEC*E041503003, F.Rooseveltlaan 3A, 9000 Gent"


# --- tokens --------------------------------------------------------------------------------


def test_the_cpo_pulls_the_tokens_page_by_page(connection: Connection) -> None:
    tenant = connection.tenant
    _, first = with_token(tenant, "prepaid")
    carl, second = with_token(tenant, "postpaid")
    _, third = with_token(tenant, "postpaid")
    assert tenant.emp.delete(f"/v1/customers/{carl['id']}/tokens/{second.lower()}").json()["valid"] is False

    page = connection.ocpi.get("/ocpi/2.2.1/tokens", params={"limit": 2})

    assert page.status_code == 200, page.text
    assert (page.headers["x-total-count"], page.headers["x-limit"]) == ("3", "2")
    link = page.headers["link"]
    assert link.endswith('>; rel="next"') and "offset=2" in link and "limit=2" in link
    rest = connection.ocpi.get(link[1 : link.index(">")])
    tokens = page.json()["data"] + rest.json()["data"]
    assert "link" not in rest.headers
    assert [t["uid"] for t in tokens] == [first, third, second]  # last updated first to last
    by_uid = {t["uid"]: t for t in tokens}
    assert (by_uid[first]["whitelist"], by_uid[third]["whitelist"]) == ("NEVER", "ALLOWED_OFFLINE")
    assert by_uid[second]["valid"] is False
    assert {(t["country_code"], t["party_id"], t["type"]) for t in tokens} == {("FI", "VLT", "RFID")}
    big = connection.ocpi.get("/ocpi/2.2.1/tokens", params={"limit": 1000})
    assert big.headers["x-limit"] == "100"


def test_a_token_uid_is_unique_in_the_emp_whatever_its_case(connection: Connection) -> None:
    _, uid = with_token(connection.tenant, "postpaid")
    other = customer(connection.tenant, "postpaid")
    again = connection.tenant.emp.post(
        f"/v1/customers/{other['id']}/tokens",
        json={"uid": uid.lower(), "type": "RFID", "contract_id": "FI-VLT-X"},
    )
    assert again.status_code == 409 and again.json()["type"].endswith("/duplicate")


def test_the_official_token_examples_are_authorized_as_the_ledger_decides(connection: Connection) -> None:
    tenant = connection.tenant
    app_user = json.loads((EXAMPLES / "token_example_1_app_user.json").read_text())
    rfid = json.loads((EXAMPLES / "token_example_2_full_rfid.json").read_text())
    funded = customer(tenant, "prepaid", card=CARD)
    assert top_up(tenant, funded["id"], 500).status_code == 201
    empty = customer(tenant, "prepaid")
    postpaid = customer(tenant, "postpaid")
    blocked = customer(tenant, "postpaid")
    cases = [
        (funded, app_user["uid"], "APP_USER", "ALLOWED"),
        (empty, rfid["uid"], "RFID", "NO_CREDIT"),
        (postpaid, "POST-" + uuid.uuid4().hex[:6], "RFID", "ALLOWED"),
        (blocked, "GONE-" + uuid.uuid4().hex[:6], "RFID", "BLOCKED"),
    ]
    for holder, uid, kind, _ in cases:
        body = {
            "uid": uid,
            "type": kind,
            "contract_id": rfid["contract_id"],
            "visual_number": rfid["visual_number"],
        }
        assert tenant.emp.post(f"/v1/customers/{holder['id']}/tokens", json=body).status_code == 201
    assert tenant.emp.delete(f"/v1/customers/{blocked['id']}/tokens/{cases[3][1]}").status_code == 200

    for holder, uid, kind, expected in cases:
        asked = connection.ocpi.post(
            f"/ocpi/2.2.1/tokens/{uid}/authorize",
            params={"type": kind},
            json={"location_id": "LOC1", "evse_uids": ["3256"]},
        )
        assert asked.status_code == 200, asked.text
        info = asked.json()["data"]
        assert (info["allowed"], info["token"]["uid"], info["token"]["type"]) == (expected, uid, kind)
        assert info["authorization_reference"]
        if expected != "BLOCKED":  # the ledger's own API decides the same
            own = tenant.emp.post(f"/v1/customers/{holder['id']}/authorize").json()["allowed"]
            assert own == expected

    unknown = connection.ocpi.post("/ocpi/2.2.1/tokens/NOBODY/authorize")
    wrong_type = connection.ocpi.post(
        f"/ocpi/2.2.1/tokens/{app_user['uid']}/authorize", params={"type": "RFID"}
    )
    assert (unknown.status_code, unknown.json()["status_code"]) == (404, 2004)
    assert (wrong_type.status_code, wrong_type.json()["status_code"]) == (404, 2004)


def test_an_authorization_body_of_only_whitespace_is_no_body_and_a_broken_one_is_refused(
    connection: Connection,
) -> None:
    tenant = connection.tenant
    holder = customer(tenant, "postpaid")
    uid = "WS-" + uuid.uuid4().hex[:6]
    body = {"uid": uid, "type": "RFID", "contract_id": "FI-VLT-WS"}
    assert tenant.emp.post(f"/v1/customers/{holder['id']}/tokens", json=body).status_code == 201
    path = f"/ocpi/2.2.1/tokens/{uid}/authorize"
    json_body = {"content-type": "application/json"}

    # The location references are optional: a body of only whitespace leaves them out.
    for blank in (b"", b"\t", b" \r\n "):
        asked = connection.ocpi.post(path, content=blank, headers=json_body)
        assert asked.status_code == 200, (blank, asked.text)
        assert asked.json()["data"]["allowed"] == "ALLOWED"
    broken = connection.ocpi.post(path, content=b'{"location_id": ', headers=json_body)
    assert broken.status_code == 400, broken.text
    assert broken.json()["status_code"] == 2001 and "body" in broken.json()["status_message"]


def test_a_cdr_and_its_credit_land_on_the_next_invoice(
    served: ServedApp, admin: httpx.Client, cpo: LocalCpo
) -> None:
    started = datetime.now(UTC).replace(microsecond=0)
    connected = connect(served, admin, cpo, markup_bp=500, test_clock=started)
    tenant = connected.tenant
    define_catalog(tenant)
    carl, uid = with_token(tenant, "postpaid")
    subscribe(tenant, carl["id"], "BASE-POST")
    cdr = connected.cdr(uid, **recent(0))
    credit = {**cdr, "id": cdr["id"] + "-C", "credit": True, "credit_reference_id": cdr["id"],
              "total_cost": {"excl_vat": -4.00, "incl_vat": -4.40}}  # fmt: skip
    assert connected.push(cdr).status_code == 201
    assert connected.push(credit).status_code == 201

    advance(tenant, started + timedelta(days=33))

    [invoice] = tenant.emp.get("/v1/invoices", params={"customer_id": carl["id"]}).json()["items"]
    sessions = {
        line["reference"]: line["amount_minor"] for line in invoice["lines"] if line["kind"] == "session"
    }
    assert sessions == {f"NL*EXA*{cdr['id']}": 462, f"NL*EXA*{cdr['id']}-C": -462}
    connected.ocpi.close()
    tenant.close()


def test_the_urls_handed_out_start_with_the_public_url(served: ServedApp, cpo: LocalCpo) -> None:
    with (
        serving(context_for(served.system, public_url="https://ledger.example.com"), served.system) as public,
        public.client(public.admin_token) as admin,
    ):
        connected = connect(public, admin, cpo)
        party = connected.party
        versions = connected.ocpi.get("/ocpi/versions").json()["data"]
        _, uid = with_token(connected.tenant, "postpaid")
        pushed = connected.push(connected.cdr(uid))
        connected.ocpi.close()
        connected.tenant.close()
    assert party["versions_url"] == "https://ledger.example.com/ocpi/versions"
    assert versions == [{"version": "2.2.1", "url": "https://ledger.example.com/ocpi/2.2.1"}]
    assert pushed.headers["location"].startswith("https://ledger.example.com/ocpi/2.2.1/cdrs/")


@pytest.mark.parametrize(
    "versions",
    [
        lambda cpo: [{"version": "2.1.1", "url": f"{cpo.base_url}/ocpi/2.1.1"}],  # no 2.2.1
        lambda cpo: {"not": "a list of versions"},
        lambda cpo: [{"version": "2.2.1", "url": "http://127.0.0.1:1/ocpi/2.2.1"}],  # nobody listens
    ],
    ids=["no-2.2.1", "garbage", "details-unreachable"],
)
def test_a_cpo_whose_versions_cannot_be_used_gets_3001(
    served: ServedApp, admin: httpx.Client, cpo: LocalCpo, versions: Any
) -> None:
    tenant = ocpi_tenant(served, admin)
    party = create_party(tenant, cpo)
    cpo.versions = lambda: versions(cpo)  # type: ignore[method-assign]

    refused = cpo.register(served.base_url, party["token_a"])

    assert (refused.status_code, refused.json()["status_code"]) == (200, 3001), refused.text
    assert tenant.emp.get("/v1/ocpi/parties").json()["items"][0]["status"] == "pending"
    tenant.close()
