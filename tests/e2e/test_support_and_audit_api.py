"""Support and auditors over HTTP: histories, the balance at an instant and why,
corrections, verification and exports."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import Tenant
from tests.e2e.ledger_story import CARD, customer, problem_code, session, top_up, transactions
from tests.reliability.crash_serve import wait_until


def story(tenant: Tenant) -> dict:
    """A prepaid customer with consent: a top-up, sessions, an automatic top-up."""
    ann = customer(tenant, card=CARD)
    tenant.emp.put(f"/v1/customers/{ann['id']}/auto-top-up", json={"enabled": True})
    top_up(tenant, ann["id"], 1500)
    session(tenant, ann["id"], 400)
    session(tenant, ann["id"], 300)  # 800 left: below 10.00, so 30.00 is added
    wait_until(
        lambda: len(transactions(tenant, ann["id"])) >= 4, "the automatic top-up", timeout=10.0, every=0.02
    )
    return ann


def test_the_full_history_pages_through_every_event(tenant: Tenant) -> None:
    ann = story(tenant)
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = tenant.as_role("auditor").get(f"/v1/customers/{ann['id']}/events", params=params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["sequence"] for e in seen] == list(range(1, len(seen) + 1))
    types = [e["type"] for e in seen]
    assert types[0] == "Registered" and "SessionCharged" in types and "TopUpApplied" in types
    stored = next(e for e in seen if e["type"] == "PaymentCardStored")
    assert stored["data"]["last4"] == "4242" and stored["data"]["token"] == "tok_…"
    assert all(e["recorded_at"].endswith("Z") for e in seen)


def test_the_explanation_sums_to_the_balance_and_names_each_cause(tenant: Tenant) -> None:
    ann = story(tenant)
    explanation = tenant.as_role("support").get(f"/v1/customers/{ann['id']}/balance/explain").json()
    balance = tenant.emp.get(f"/v1/customers/{ann['id']}/balance").json()["balance_minor"]

    assert explanation["balance_minor"] == balance == 3800
    assert sum(line["delta_minor"] for line in explanation["lines"]) == balance
    assert [(line["type"], line["delta_minor"]) for line in explanation["lines"]] == [
        ("TopUpApplied", 1500), ("SessionCharged", -400), ("SessionCharged", -300), ("TopUpApplied", 3000),
    ]  # fmt: skip
    automatic = explanation["lines"][-1]
    assert automatic["cause"]["rule"] == "automatic top-up below threshold"
    assert automatic["cause"]["threshold_minor"] == 1000
    assert automatic["cause"]["balance_at_trigger_minor"] == 800
    assert automatic["cause"]["source"] == "automatic"
    assert explanation["lines"][1]["cause"]["energy_wh"] == 12_500


def test_the_balance_at_a_past_instant(tenant: Tenant) -> None:
    ann = customer(tenant, card=CARD)
    top_up(tenant, ann["id"], 1000)
    between = datetime.now(UTC)
    time.sleep(0.05)
    session(tenant, ann["id"], 250)

    past = tenant.emp.get(f"/v1/customers/{ann['id']}/balance", params={"at": between.isoformat()}).json()
    before = tenant.emp.get(
        f"/v1/customers/{ann['id']}/balance", params={"at": (between - timedelta(hours=1)).isoformat()}
    ).json()
    explained = tenant.emp.get(
        f"/v1/customers/{ann['id']}/balance/explain", params={"at": between.isoformat()}
    ).json()

    assert past["balance_minor"] == 1000 == explained["balance_minor"]
    assert before["balance_minor"] == 0
    assert len(explained["lines"]) == 1
    assert tenant.emp.get(f"/v1/customers/{ann['id']}/balance").json()["balance_minor"] == 750
    naive = tenant.emp.get(f"/v1/customers/{ann['id']}/balance", params={"at": "2026-01-01T00:00:00"})
    assert naive.status_code == 400 and "at" in naive.json()["detail"]


def test_support_records_a_correction_and_nothing_is_edited(tenant: Tenant) -> None:
    ann = customer(tenant, card=CARD)
    session(tenant, ann["id"], 990)
    url = f"/v1/customers/{ann['id']}/adjustments"

    response = tenant.as_role("support").post(
        url, json={"amount_minor": 990, "reason": "Charger fault, refund"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["balance_minor"] == 0 and body["amount_minor"] == 990
    assert body["recorded_by"].startswith("api-key:")
    [charged, refunded] = transactions(tenant, ann["id"])
    assert (charged["type"], charged["amount_minor"]) == ("session", -990)
    # One vocabulary: an adjustment refers to itself, and reads as its reason.
    assert (refunded["type"], refunded["amount_minor"], refunded["reference"], refunded["description"]) == (
        "adjustment",
        990,
        body["id"],
        "Charger fault, refund",
    )
    line = tenant.emp.get(f"/v1/customers/{ann['id']}/balance/explain").json()["lines"][-1]
    assert line["cause"] == {"reason": "Charger fault, refund", "recorded_by": body["recorded_by"]}


def test_corrections_need_a_reason_an_amount_and_the_right_role(tenant: Tenant) -> None:
    ann = customer(tenant)
    url = f"/v1/customers/{ann['id']}/adjustments"
    assert tenant.as_role("support").post(url, json={"amount_minor": 0, "reason": "x"}).status_code == 400
    assert tenant.as_role("support").post(url, json={"amount_minor": 5, "reason": ""}).status_code == 400
    assert tenant.as_role("support").post(url, json={"amount_minor": 5, "reason": "   "}).status_code == 400
    assert (
        problem_code(tenant.as_role("auditor").post(url, json={"amount_minor": 5, "reason": "x"}))
        == "forbidden"
    )
    assert tenant.emp.get(f"/v1/customers/{ann['id']}/balance").json()["balance_minor"] == 0


def test_an_auditor_verifies_its_emps_streams(tenant: Tenant, admin: httpx.Client) -> None:
    story(tenant)
    report = tenant.as_role("auditor").get("/v1/audit/verify").json()
    assert report["ok"] is True and report["problems"] == []
    assert report["streams_checked"] >= 3 and report["events_checked"] >= 10
    everything = admin.get("/v1/audit/verify").json()
    assert everything["ok"] is True
    assert everything["streams_checked"] >= report["streams_checked"]
    assert tenant.emp.get("/v1/audit/verify").status_code == 403


def test_sessions_and_transactions_export_as_csv_and_ndjson(tenant: Tenant) -> None:
    ann = story(tenant)
    auditor = tenant.as_role("auditor")

    sessions_csv = auditor.get("/v1/exports/sessions", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(sessions_csv.text)))
    assert sessions_csv.headers["content-type"].startswith("text/csv")
    assert [(r["customer_id"], r["cost_minor"], r["currency"]) for r in rows] == [
        (ann["id"], "400", "EUR"), (ann["id"], "300", "EUR"),
    ]  # fmt: skip

    lines = auditor.get("/v1/exports/transactions", params={"format": "ndjson"}).text.splitlines()
    movements = [json.loads(line) for line in lines]
    assert [m["amount_minor"] for m in movements] == [1500, -400, -300, 3000]
    assert movements[-1]["balance_after_minor"] == 3800

    later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    empty = auditor.get("/v1/exports/sessions", params={"from": later, "to": later}).text
    assert empty.splitlines() == [empty.splitlines()[0]]  # the header only
    backwards = auditor.get("/v1/exports/sessions", params={"from": later, "to": "2020-01-01T00:00:00Z"})
    assert problem_code(backwards) == "invalid-period"
