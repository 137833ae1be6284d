"""The support page's correction form, in headless Chromium: it records an adjustment through
the ledger's command, shows mistakes beside their field, refuses a POST without the session's
security token, and is not there for an auditor."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import ServedApp, Tenant
from tests.e2e.conftest import screenshot
from tests.e2e.ledger_story import CARD, customer, top_up


def open_customer(page: Any, served: ServedApp, key: str, customer_id: str) -> None:
    page.goto(f"{served.base_url}/support/customers/{customer_id}")
    page.fill("#key", key)
    page.click("#sign-in")


def post_form(page: Any, url: str, fields: dict) -> dict:
    """A form POST from the page's browser, with its cookie: status, content type and text."""
    answer: dict = page.evaluate(
        """async ([url, fields]) => {
            const response = await fetch(url, {method: "POST", body: new URLSearchParams(fields)});
            return {status: response.status, type: response.headers.get("content-type"),
                    text: await response.text()};
        }""",
        [url, fields],
    )
    return answer


def events_of(tenant: Tenant, customer_id: str) -> list[dict]:
    answer = tenant.as_role("support").get(f"/v1/customers/{customer_id}/events")
    assert answer.status_code == 200, answer.text
    items: list[dict] = answer.json()["items"]
    return items


def test_support_records_a_correction_seen_in_the_balance_and_the_history(
    page: Any, served: ServedApp, tenant: Tenant
) -> None:
    driver = customer(tenant, card=CARD, name=f"Refunded {uuid.uuid4().hex[:8]}")
    assert top_up(tenant, driver["id"], 1000).status_code == 201
    open_customer(page, served, tenant.keys["support"], driver["id"])

    page.fill("#amount", "4.50")
    page.fill("#reason", "Ticket 4711: charger fault, refund")
    sent = {name: page.get_attribute(f"input[name={name}]", "value") for name in ("csrf_token", "form_key")}
    with page.expect_response(lambda r: r.url.endswith("/adjustments")) as answer:
        page.click("#record-adjustment")

    assert answer.value.status == 200
    assert page.inner_text("#adjustment-recorded") == (
        "Recorded +4.50 EUR (Ticket 4711: charger fault, refund). The balance is now 14.50 EUR."
    )
    assert page.inner_text("#balance-now") == "14.50 EUR"
    last = page.locator("tr.line").last
    assert last.locator("td").nth(1).inner_text() == "Adjustment"
    assert "Ticket 4711: charger fault, refund" in last.inner_text()
    assert page.input_value("#amount") == "" and page.input_value("#reason") == ""  # a fresh form
    screenshot(page, "adjustment-recorded")

    # The same form sent again (a reload that re-posts it) records nothing more.
    again = post_form(
        page,
        f"{served.base_url}/support/customers/{driver['id']}/adjustments",
        {**sent, "amount": "4.50", "reason": "Ticket 4711: charger fault, refund"},
    )
    assert again["status"] == 200 and "The balance is now 14.50 EUR." in again["text"]

    # Over the API: the same event, signed by the support key that signed in.
    api = tenant.as_role("support").get(f"/v1/customers/{driver['id']}/balance")
    assert api.json()["balance_minor"] == 1450
    recorded = [e for e in events_of(tenant, driver["id"]) if e["type"] == "AdjustmentRecorded"]
    assert len(recorded) == 1 and recorded[0]["data"]["amount_minor"] == 450
    by_api = tenant.as_role("support").post(
        f"/v1/customers/{driver['id']}/adjustments", json={"amount_minor": -50, "reason": "the same key"}
    )
    assert by_api.status_code == 201, by_api.text
    assert recorded[0]["data"]["caused_by"] == by_api.json()["recorded_by"]  # the support key, as on the API
    assert by_api.json()["recorded_by"] in last.inner_text()


@pytest.mark.parametrize(
    ("amount", "reason", "field", "says"),
    [
        ("", "a reason", "amount", "enter an amount in EUR"),
        ("4,50", "a reason", "amount", "enter an amount in EUR"),
        ("1e400", "a reason", "amount", "out of range"),
        ("4.505", "a reason", "amount", "more decimals than EUR has"),
        ("0", "a reason", "amount", "must not be 0"),
        ("NaN", "a reason", "amount", "must be a number"),
        ("10000000000.01", "a reason", "amount", "out of range"),
        ("4.50", "   ", "reason", "say why"),
        ("4.50", "x" * 501, "reason", "length <= 500"),
    ],
)
def test_a_mistake_in_the_form_is_shown_beside_its_field_and_records_nothing(
    page: Any, served: ServedApp, tenant: Tenant, amount: str, reason: str, field: str, says: str
) -> None:
    driver = customer(tenant)
    open_customer(page, served, tenant.keys["support"], driver["id"])
    page.fill("#amount", amount)
    page.evaluate("document.querySelector('#reason').removeAttribute('maxlength')")
    page.fill("#reason", reason)
    with page.expect_response(lambda r: r.url.endswith("/adjustments")) as answer:
        page.click("#record-adjustment")

    assert answer.value.status == 422
    assert says in page.inner_text(f"#{field}-error")
    assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
    assert page.input_value("#amount") == amount  # what was typed stays, to be fixed
    assert page.inner_text("#balance-now") == "0.00 EUR"
    assert not [e for e in events_of(tenant, driver["id"]) if e["type"] == "AdjustmentRecorded"]
    if amount == "4.505":
        screenshot(page, "adjustment-mistake")


@pytest.mark.parametrize("token", [None, "", "a-token-of-another-session"])
def test_a_post_without_the_sessions_security_token_is_refused_and_records_nothing(
    page: Any, served: ServedApp, tenant: Tenant, token: str | None
) -> None:
    driver = customer(tenant)
    open_customer(page, served, tenant.keys["support"], driver["id"])
    fields = {"amount": "100", "reason": "forged", **({} if token is None else {"csrf_token": token})}
    # A form another page could make the browser send: the cookie goes along, the token does not.
    answer = post_form(page, f"{served.base_url}/support/customers/{driver['id']}/adjustments", fields)

    assert answer["status"] == 403
    assert answer["type"].startswith("text/html")
    assert "security token" in answer["text"]
    assert not [e for e in events_of(tenant, driver["id"]) if e["type"] == "AdjustmentRecorded"]
    page.reload()
    assert page.inner_text("#balance-now") == "0.00 EUR"


def test_an_auditor_sees_no_correction_form(page: Any, served: ServedApp, tenant: Tenant) -> None:
    driver = customer(tenant)
    open_customer(page, served, tenant.keys["auditor"], driver["id"])
    assert page.inner_text("h1") == driver["name"]
    assert page.locator("#record-adjustment").count() == 0
    assert page.locator("input[name=csrf_token]").count() == 0
