"""Webhooks over real HTTP both ways: endpoints made through the API, deliveries received by a
local HTTP server that verifies every one with the `standardwebhooks` package."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import WebhookVerificationError

from tests.conftest import (
    ServedApp,
    Tenant,
    context_for,
    make_tenant,
    serving,
)
from tests.e2e.ledger_story import (
    CARD,
    DECLINING_CARD,
    advance,
    customer,
    define_catalog,
    session,
    subscribe,
    top_up,
)
from tests.ocpi_cpo import LocalCpo, create_party, official_cdr
from tests.reliability.crash_serve import wait_until
from tests.reliability.evidence import captured_logs
from tests.reliability.serving import ledger_of_its_own
from tests.webhook_receiver import Behaviour, Receiver, verified

SUBSCRIBE_TIMEOUT = 15.0
PAGE = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()


def documented_payloads() -> dict[str, dict[str, Any]]:
    """docs/webhooks.md's example body of each event type."""
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", PAGE, re.DOTALL)]
    return {example["type"]: example for example in examples}


def documented_snippet() -> dict[str, Any]:
    """docs/webhooks.md's Python verification snippet, run: its names."""
    [code] = re.findall(r"```python\n(.*?)```", PAGE, re.DOTALL)
    names: dict[str, Any] = {}
    exec(compile(code, "docs/webhooks.md", "exec"), names)
    return names


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def endpoint(tenant: Tenant, url: str, **fields: Any) -> dict[str, Any]:
    response = tenant.emp.post("/v1/webhook-endpoints", json={"url": url, **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def types_at(receiver: Receiver, path: str) -> list[str]:
    return [received.message["type"] for received in receiver.at(path)]


@pytest.fixture
def own_ledger(server_url: str) -> Iterator[ServedApp]:
    """A ledger of its own, with webhook delivery: these tests run batch jobs over every EMP."""
    with ledger_of_its_own(server_url, delivering_webhooks=True) as served:
        yield served


def test_every_event_type_arrives_signed_as_standard_webhooks_verify(
    own_ledger: ServedApp, receiver: Receiver
) -> None:
    with own_ledger.client(own_ledger.admin_token) as admin:
        tenant = make_tenant(own_ledger, admin, test_clock=datetime.now(UTC))
        hook = endpoint(tenant, f"{receiver.base_url}/all", description="every type")
        define_catalog(tenant)
        ann = customer(tenant, "prepaid", card=CARD)
        subscription = subscribe(tenant, ann["id"], "BASE-PRE")
        assert top_up(tenant, ann["id"], 5000).status_code == 201
        assert session(tenant, ann["id"], 700).status_code == 201
        bolt = tenant.emp.post(
            f"/v1/subscriptions/{subscription['id']}/packages", json={"package": "BOLT-PRE"}
        )
        assert tenant.emp.delete(
            f"/v1/subscriptions/{subscription['id']}/packages/{bolt.json()['id']}"
        ).is_success
        adjusted = tenant.as_role("support").post(
            f"/v1/customers/{ann['id']}/adjustments", json={"amount_minor": 100, "reason": "goodwill"}
        )
        assert adjusted.status_code == 201
        bob = customer(tenant, "prepaid", card=DECLINING_CARD)
        assert top_up(tenant, bob["id"], 1000).status_code == 402  # a failed top-up
        carl = customer(tenant, "postpaid", card=DECLINING_CARD)
        carl_subscription = subscribe(tenant, carl["id"], "BASE-POST")
        once = tenant.emp.post(
            f"/v1/subscriptions/{carl_subscription['id']}/packages", json={"package": "ONCE"}
        )
        assert once.status_code == 402  # a failed payment
        dora = customer(tenant, "postpaid", card=CARD)
        dora_subscription = subscribe(tenant, dora["id"], "BASE-POST")
        paid = tenant.emp.post(
            f"/v1/subscriptions/{dora_subscription['id']}/packages", json={"package": "ONCE"}
        )
        assert paid.status_code == 201  # a payment taken
        assert session(tenant, dora["id"], 1234).status_code == 201
        changed = tenant.emp.post(  # mid-period: the rest of the period's debit comes back
            f"/v1/subscriptions/{subscription['id']}/base-package",
            json={"package": "BASE-PRE-PLUS", "at": (datetime.now(UTC) + timedelta(days=10)).isoformat()},
        )
        assert changed.status_code == 200, changed.text
        ended = tenant.emp.post(f"/v1/subscriptions/{dora_subscription['id']}/end", json={})
        assert ended.status_code == 200, ended.text
        charge_point_operator_sessions(own_ledger, admin, tenant, ann["id"])
        moved = advance(tenant, datetime.now(UTC) + timedelta(days=70))  # its jobs run on the way
        settle_with_a_credit_note_and_a_payment(tenant, dora["id"], moved["now"])

    sent = {
        "customer.created", "subscription.created", "package.acquired", "package.cancelled",
        "top_up.succeeded", "top_up.failed", "session.recorded", "adjustment.recorded",
        "payment.succeeded", "payment.failed", "prepayment.debited", "invoice.issued",
        "prepayment.credited", "subscription.ended", "session.credited", "cdr.unmatched",
        "credit_note.issued", "invoice.paid", "dunning.step",
    }  # fmt: skip
    received = receiver.wait_for("/all", lambda found: sent <= {r.message["type"] for r in found})
    for delivery in received:
        message = verified(delivery, hook["secret"])
        data = message["data"]
        assert data["emp_id"] == tenant.id
        assert isinstance(data["sequence"], int) and data["sequence"] >= 1
        assert message["timestamp"].endswith("Z")
        assert delivery.headers["content-type"] == "application/json"
    sessions = [r.message["data"] for r in received if r.message["type"] == "session.recorded"]
    assert {(s["customer_id"], s["cost_minor"]) for s in sessions} >= {(ann["id"], 700), (dora["id"], 1234)}
    # The docs show each type sent, with exactly the fields a real message of it carries.
    documented = documented_payloads()
    assert set(documented) == sent
    for delivery in received:
        example = documented[delivery.message["type"]]
        assert set(example) == set(delivery.message)
        assert set(example["data"]) == set(delivery.message["data"]), delivery.message["type"]
    tenant.close()


def settle_with_a_credit_note_and_a_payment(tenant: Tenant, customer_id: str, now: str) -> None:
    """A credit note on the customer's first invoice, then a payment of the rest: it is paid."""
    invoice = tenant.emp.get("/v1/invoices", params={"customer_id": customer_id}).json()["items"][0]
    line = next(line for line in invoice["lines"] if line["amount_minor"] > 0)
    credited = tenant.emp.post(
        f"/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "goodwill", "lines": [{"line": line["position"], "amount_minor": 1}]},
    )
    assert credited.status_code == 201, credited.text
    paid = tenant.emp.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount_minor": invoice["total_minor"] - 1, "paid_at": now, "reference": "bank transfer"},
    )
    assert paid.status_code == 201, paid.text
    assert tenant.emp.get(f"/v1/invoices/{invoice['id']}").json()["status"] == "paid"


def charge_point_operator_sessions(
    served: ServedApp, admin: httpx.Client, tenant: Tenant, holder: str
) -> None:
    """Over OCPI: a CDR of the holder's token, a credit for it, and a CDR of a token nobody holds."""
    cpo = LocalCpo()
    try:
        assert admin.patch(
            f"/v1/emps/{tenant.id}", json={"ocpi": {"country_code": "FI", "party_id": "VLT"}}
        ).is_success
        party = create_party(tenant, cpo)
        token_c = cpo.register(served.base_url, party["token_a"]).json()["data"]["token"]
        uid = "HOOK-" + uuid.uuid4().hex[:8]
        issued = tenant.emp.post(
            f"/v1/customers/{holder}/tokens", json={"uid": uid, "type": "RFID", "contract_id": "C1"}
        )
        assert issued.status_code == 201, issued.text
        cdr = official_cdr(country_code="NL", party_id="EXA", uid=uid)
        credit = {**cdr, "id": cdr["id"] + "-C", "credit": True, "credit_reference_id": cdr["id"],
                  "total_cost": {"excl_vat": -1.00, "incl_vat": -1.10}}  # fmt: skip
        unknown = official_cdr(country_code="NL", party_id="EXA", uid="NOBODY")
        with cpo.client(served.base_url, token_c) as ocpi:
            for pushed in (cdr, credit, unknown):
                assert ocpi.post("/ocpi/2.2.1/cdrs", json=pushed).status_code == 201
    finally:
        cpo.stop()


def test_the_docs_verification_snippet_accepts_a_delivery_once_and_refuses_a_forgery(
    tenant: Tenant, receiver: Receiver
) -> None:
    hook = endpoint(tenant, f"{receiver.base_url}/snippet", event_types=["customer.created"])
    ann = customer(tenant, "postpaid")
    [delivery] = receiver.wait_for("/snippet", lambda found: len(found) == 1)
    snippet = documented_snippet()
    snippet["WEBHOOK_SECRET"] = hook["secret"]
    handle = snippet["handle_delivery"]

    status, message = handle(delivery.body, delivery.headers)
    assert status == 200 and message["data"]["customer_id"] == ann["id"]
    assert handle(delivery.body, delivery.headers) == (200, None)  # the same webhook-id again
    forged = delivery.body.replace(b'"postpaid"', b'"prepaid"')
    assert handle(forged, {**delivery.headers, "webhook-id": "msg_other"}) == (400, None)


def test_a_tampered_body_fails_verification(tenant: Tenant, receiver: Receiver) -> None:
    hook = endpoint(tenant, f"{receiver.base_url}/tamper", event_types=["customer.created"])
    customer(tenant, "postpaid")
    [delivery] = receiver.wait_for("/tamper", lambda found: len(found) == 1)
    verified(delivery, hook["secret"])

    tampered = delivery.body.replace(b'"customer.created"', b'"customer.createD"')
    with pytest.raises(WebhookVerificationError):
        verified(type(delivery)(delivery.path, delivery.headers, tampered), hook["secret"])
    with pytest.raises(WebhookVerificationError):
        verified(delivery, "whsec_" + "QUJD" * 8)  # another secret


def test_a_receiver_answering_500_gets_the_same_message_again(tenant: Tenant, receiver: Receiver) -> None:
    receiver.behaviours["/flaky"] = Behaviour(statuses=[500])
    hook = endpoint(tenant, f"{receiver.base_url}/flaky", event_types=["customer.created"])
    customer(tenant, "postpaid")

    first, second = receiver.wait_for("/flaky", lambda found: len(found) == 2)

    assert first.webhook_id == second.webhook_id
    assert verified(first, hook["secret"]) == verified(second, hook["secret"])
    [message] = _messages(tenant, hook["id"], lambda items: items and items[0]["state"] == "delivered")
    assert (message["id"], message["attempts"], message["last_status_code"]) == (first.webhook_id, 2, 200)


def test_operators_see_the_deliveries_in_health_and_metrics(tenant: Tenant, receiver: Receiver) -> None:
    def webhook_metrics() -> dict[str, float]:
        return {
            line.split(" ")[0]: float(line.split(" ")[1])
            for line in tenant.emp.get("/metrics").text.splitlines()
            if line.startswith("chargeledger_webhook")
        }

    def grown(now: dict[str, float], name: str) -> float:
        return now.get(name, 0.0) - before.get(name, 0.0)

    def both_attempts_counted() -> dict[str, float] | None:
        """The figures once the worker has counted both attempts (the delivery's latency is its
        last figure): the receiver has the second one before the worker has its answer."""
        now = webhook_metrics()
        attempts = grown(now, "chargeledger_webhook_attempt_seconds_count")
        latencies = grown(now, "chargeledger_webhook_delivery_latency_seconds_count")
        return now if attempts >= 2 and latencies >= 1 else None

    before = webhook_metrics()
    receiver.behaviours["/watched"] = Behaviour(statuses=[503])
    endpoint(tenant, f"{receiver.base_url}/watched", event_types=["customer.created"])
    customer(tenant, "postpaid")
    receiver.wait_for("/watched", lambda found: len(found) == 2)

    metrics = wait_until(
        both_attempts_counted, "the worker's count of both attempts", timeout=SUBSCRIBE_TIMEOUT
    )
    health = tenant.emp.get("/health").json()

    assert health["webhooks"]["running"] is True
    assert set(health["webhooks"]["deliveries"]) == {"pending", "failed"}
    assert health["projections"]["webhooks"]["last_error"] is None
    assert grown(metrics, 'chargeledger_webhook_attempts_total{outcome="failed"}') >= 1
    assert grown(metrics, 'chargeledger_webhook_attempts_total{outcome="delivered"}') >= 1
    assert grown(metrics, "chargeledger_webhook_delivery_latency_seconds_count") >= 1
    assert grown(metrics, "chargeledger_webhook_attempt_seconds_count") >= 2
    assert {
        'chargeledger_webhook_messages{state="pending"}',
        'chargeledger_webhook_messages{state="failed"}',
    } <= set(metrics)


def test_a_message_no_attempt_delivers_is_failed_and_can_be_retried(
    tenant: Tenant, receiver: Receiver
) -> None:
    receiver.behaviours["/down"] = Behaviour(statuses=[503] * 8)
    hook = endpoint(tenant, f"{receiver.base_url}/down", event_types=["customer.created"])
    customer(tenant, "postpaid")

    [failed] = _messages(tenant, hook["id"], lambda items: items and items[0]["state"] == "failed")

    assert (failed["attempts"], failed["last_status_code"], failed["next_attempt_at"]) == (8, 503, None)
    assert len({r.webhook_id for r in receiver.at("/down")}) == 1
    retried = tenant.emp.post(f"/v1/webhook-endpoints/{hook['id']}/messages/{failed['id']}/retry")
    assert retried.status_code == 202
    [delivered] = _messages(tenant, hook["id"], lambda items: items and items[0]["state"] == "delivered")
    assert delivered["attempts"] == 9
    assert len(receiver.at("/down")) == 9


def sessions_in_batches(tenant: Tenant, customer_id: str, count: int) -> None:
    ended = datetime.now(UTC) - timedelta(minutes=1)
    bodies = [
        {
            "session_id": f"S-{uuid.uuid4().hex}",
            "customer_id": customer_id,
            "started_at": (ended - timedelta(minutes=30)).isoformat(),
            "ended_at": ended.isoformat(),
            "energy_wh": 1_000,
            "cost_minor": 10,
        }
        for _ in range(count)
    ]
    for start in range(0, count, 1000):
        answered = tenant.emp.post("/v1/sessions/batch", json={"sessions": bodies[start : start + 1000]})
        assert answered.status_code == 200, answered.text
        assert {item["status"] for item in answered.json()["results"]} == {201}


def test_a_hanging_endpoint_with_a_backlog_does_not_delay_another(
    tenant: Tenant, other_tenant: Tenant, receiver: Receiver
) -> None:
    hang = threading.Event()
    hang.set()
    receiver.behaviours["/hangs"] = Behaviour(hang=hang)
    stuck = endpoint(tenant, f"{receiver.base_url}/hangs", event_types=["session.recorded"])
    other = endpoint(other_tenant, f"{receiver.base_url}/answers", event_types=["session.recorded"])
    mine = endpoint(tenant, f"{receiver.base_url}/mine-too", event_types=["customer.created"])
    ann = customer(tenant, "postpaid")
    bob = customer(other_tenant, "postpaid")
    try:
        # Thousands of messages wait for the hanging endpoint, more than one claim looks at.
        sessions_in_batches(tenant, ann["id"], 2_500)
        receiver.wait_for("/hangs", lambda found: len(found) >= 4)  # its deliveries are stuck
        _messages(tenant, stuck["id"], lambda items: len(items) == 50)  # a full first page

        for _ in range(3):
            assert session(other_tenant, bob["id"], 100).status_code == 201
        carl = customer(tenant, "postpaid")
        answered = receiver.wait_for("/answers", lambda found: len(found) == 3, timeout=10.0)
        own = receiver.wait_for("/mine-too", lambda found: len(found) == 2, timeout=10.0)
    finally:
        assert tenant.emp.delete(f"/v1/webhook-endpoints/{stuck['id']}").status_code == 204
        hang.clear()
    assert all(verified(delivery, other["secret"]) for delivery in answered)
    assert [verified(delivery, mine["secret"])["data"]["customer_id"] for delivery in own] == [
        ann["id"],
        carl["id"],
    ]


def test_after_a_rotation_deliveries_are_signed_with_both_secrets(tenant: Tenant, receiver: Receiver) -> None:
    hook = endpoint(tenant, f"{receiver.base_url}/rotated", event_types=["customer.created"])
    rotated = tenant.emp.post(f"/v1/webhook-endpoints/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != hook["secret"]

    customer(tenant, "postpaid")
    [delivery] = receiver.wait_for("/rotated", lambda found: len(found) == 1)

    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    verified(delivery, hook["secret"])
    verified(delivery, new_secret)


def test_a_secret_is_answered_at_creation_and_rotation_only_and_never_logged(
    tenant: Tenant, receiver: Receiver
) -> None:
    receiver.behaviours["/secretive"] = Behaviour(statuses=[500])
    with captured_logs() as logs:
        hook = endpoint(tenant, f"{receiver.base_url}/secretive", event_types=["customer.created"])
        customer(tenant, "postpaid")
        receiver.wait_for("/secretive", lambda found: len(found) == 2)  # a failed attempt, logged
        rotated = tenant.emp.post(f"/v1/webhook-endpoints/{hook['id']}/rotate-secret").json()["secret"]
        answers = [
            tenant.emp.get(f"/v1/webhook-endpoints/{hook['id']}").text,
            tenant.emp.get("/v1/webhook-endpoints").text,
            tenant.emp.get(f"/v1/webhook-endpoints/{hook['id']}/messages").text,
            tenant.emp.get("/v1/events").text,
        ]

    assert hook["secret"].startswith("whsec_") and rotated.startswith("whsec_") and rotated != hook["secret"]
    assert '"logger":"commands.webhook_delivery"' in logs.text, "the worker's records were not captured"
    for secret in (hook["secret"], rotated):
        key = secret.removeprefix("whsec_")
        assert key not in logs.text
        assert all(key not in answer for answer in answers)


def test_the_event_feed_pages_the_same_messages(tenant: Tenant, receiver: Receiver) -> None:
    hook = endpoint(tenant, f"{receiver.base_url}/feed", event_types=["customer.created", "session.recorded"])
    ann = customer(tenant, "postpaid")
    for cost in (100, 200, 300):
        session(tenant, ann["id"], cost)
    delivered = receiver.wait_for("/feed", lambda found: len(found) == 4)

    first = tenant.as_role("auditor").get("/v1/events", params={"limit": 3}).json()
    rest = tenant.as_role("support").get("/v1/events", params={"cursor": first["next_cursor"]}).json()
    empty = tenant.emp.get("/v1/events", params={"cursor": rest["next_cursor"]}).json()
    sessions = tenant.emp.get("/v1/events", params={"types": "session.recorded"}).json()

    items = first["items"] + rest["items"]
    by_id = {d.webhook_id: d for d in delivered}  # deliveries run in parallel: no order across messages
    assert sorted(item["id"] for item in items) == sorted(by_id)
    assert [item["type"] for item in items] == ["customer.created", *["session.recorded"] * 3]
    assert [item["data"]["cost_minor"] for item in items[1:]] == [100, 200, 300]
    assert all(item == {"id": item["id"], **verified(by_id[item["id"]], hook["secret"])} for item in items)
    assert empty["items"] == [] and empty["next_cursor"]
    assert [item["type"] for item in sessions["items"]] == ["session.recorded"] * 3


def test_a_rebuild_writes_no_message_twice_and_sends_nothing_again(
    own_ledger: ServedApp, receiver: Receiver
) -> None:
    with own_ledger.client(own_ledger.admin_token) as admin:
        tenant = make_tenant(own_ledger, admin)
    hook = endpoint(
        tenant, f"{receiver.base_url}/rebuilt", event_types=["customer.created", "session.recorded"]
    )
    ann = customer(tenant, "postpaid")
    session(tenant, ann["id"], 100)
    receiver.wait_for("/rebuilt", lambda found: len(found) == 2)
    _messages(tenant, hook["id"], lambda items: [item["state"] for item in items] == ["delivered"] * 2)

    own_ledger.system.rebuild()  # every read model from the first event; the messages are kept
    session(tenant, ann["id"], 200)

    delivered = receiver.wait_for("/rebuilt", lambda found: len(found) == 3)
    items = _messages(
        tenant, hook["id"], lambda items: [item["state"] for item in items] == ["delivered"] * 3
    )
    assert [item["attempts"] for item in items] == [1, 1, 1]
    assert sorted(item["id"] for item in items) == sorted({d.webhook_id for d in delivered})
    feed = tenant.emp.get("/v1/events").json()["items"]
    assert [item["type"] for item in feed] == ["customer.created", "session.recorded", "session.recorded"]
    tenant.close()


def test_an_endpoint_is_read_changed_and_removed(
    tenant: Tenant, other_tenant: Tenant, receiver: Receiver
) -> None:
    hook = endpoint(tenant, f"{receiver.base_url}/crud", event_types=["customer.created"])
    url = f"/v1/webhook-endpoints/{hook['id']}"

    read = tenant.emp.get(url).json()
    assert "secret" not in read and read["enabled"] is True
    assert read["event_types"] == ["customer.created"]
    changed = tenant.emp.patch(
        url, json={"enabled": False, "description": "paused", "event_types": ["session.recorded"]}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["enabled"], changed.json()["description"]) == (False, "paused")
    assert [item["id"] for item in tenant.emp.get("/v1/webhook-endpoints").json()["items"]] == [hook["id"]]
    assert other_tenant.emp.get(url).status_code == 404
    assert other_tenant.emp.patch(url, json={"enabled": True}).status_code == 404
    assert other_tenant.emp.delete(url).status_code == 404
    assert other_tenant.emp.get(f"{url}/messages").status_code == 404

    assert tenant.emp.delete(url).status_code == 204
    assert tenant.emp.get(url).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://hooks.example.com/in"}, "url"),
        ({"url": "https://user:pass@hooks.example.com/in"}, "url"),
        ({"url": "https://hooks.example.com/in", "event_types": ["session.started"]}, "event_types"),
        ({"url": "https://hooks.example.com/in", "event_types": []}, "event_types"),
        ({"url": "https://hooks.example.com/in", "secret": "mine"}, "secret"),
    ],
)
def test_a_bad_endpoint_is_refused_naming_the_field(tenant: Tenant, body: dict[str, Any], field: str) -> None:
    response = tenant.emp.post("/v1/webhook-endpoints", json=body)

    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/validation-error")
    assert response.json()["errors"][0]["field"].split("[")[0] == field  # event_types[0]: the item


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://localhost:8443/in",
        "https://10.1.2.3/in",
        "https://192.168.0.10/in",
        "https://[::1]/in",
        "https://169.254.169.254/latest/meta-data",
    ],
)
def test_without_the_flag_only_https_to_public_addresses_is_accepted(
    served: ServedApp, admin: httpx.Client, url: str
) -> None:
    strict_context = context_for(served.system, allow_insecure_outbound=False)
    with serving(strict_context, served.system) as strict, strict.client(strict.admin_token) as strict_admin:
        tenant = make_tenant(strict, strict_admin)
        refused = tenant.emp.post("/v1/webhook-endpoints", json={"url": url})
        accepted = tenant.emp.post("/v1/webhook-endpoints", json={"url": "https://93.184.216.34/in"})
        tenant.close()
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["field"] == "url"
    assert accepted.status_code == 201, accepted.text


def _messages(tenant: Tenant, endpoint_id: str, condition: Any, timeout: float = SUBSCRIBE_TIMEOUT) -> Any:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while True:
        items = tenant.emp.get(f"/v1/webhook-endpoints/{endpoint_id}/messages").json()["items"]
        if condition(items):
            return items
        assert datetime.now(UTC) < deadline, items
        threading.Event().wait(0.05)
