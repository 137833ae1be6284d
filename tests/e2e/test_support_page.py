"""The support page, exercised in headless Chromium: sign in, find a customer, see the chart
of the balance over time and the explanation lines for an instant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import ServedApp, make_tenant
from tests.e2e.conftest import screenshot
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


def test_support_finds_a_customer_and_explains_the_balance(
    browser: Any, served: ServedApp, admin: httpx.Client
) -> None:
    """On a Helsinki EMP's test clock: a top-up on 1 November, sessions on 5 and 15 November;
    support asks what the balance was on 10 November."""
    tenant = make_tenant(
        served, admin, time_zone="Europe/Helsinki", test_clock=datetime(2026, 11, 1, 10, tzinfo=UTC)
    )
    name = f"Disputing Driver {uuid.uuid4().hex[:8]}"
    disputed = customer(tenant, card=CARD, name=name)
    top_up(tenant, disputed["id"], 2000)
    advance(tenant, datetime(2026, 11, 20, 10, tzinfo=UTC), run_jobs=False)
    for cost, ended in (
        (450, datetime(2026, 11, 5, 18, tzinfo=UTC)),
        (300, datetime(2026, 11, 15, 18, tzinfo=UTC)),
    ):
        recorded = session(
            tenant,
            disputed["id"],
            cost,
            started_at=(ended - timedelta(hours=1)).isoformat(),
            ended_at=ended.isoformat(),
        )
        assert recorded.status_code == 201, recorded.text

    page = browser.new_page()
    try:
        page.goto(f"{served.base_url}/support")
        page.fill("#key", tenant.keys["support"])
        page.click("#sign-in")
        page.fill("#q", "dísputing DRIVER")  # case and accents aside, as the API's `q`
        page.click("#search")
        screenshot(page, "search")
        page.click(f"text={name}")

        assert page.inner_text("h1") == name
        assert page.inner_text("#balance-now") == "12.50 EUR"
        points = page.get_attribute("#balance-line", "points")
        assert points is not None and len(points.split()) == 1 + 2 * 3 + 1
        labels = page.locator(".date-label").all_text_contents()
        assert labels[0] == "2026-11-01" and labels[-1] == "2026-11-20"
        assert page.text_content("#chosen-instant-label") == "2026-11-20 12:00"  # now, in Helsinki
        assert page.locator("tr.line").count() == 3

        page.fill("#at", "2026-11-10T12:00:00")
        page.click("#explain")
        assert page.inner_text("#balance-at") == "15.50 EUR", page.url
        assert page.text_content("#chosen-instant-label") == "2026-11-10 12:00"
        rows = page.locator("tr.line")
        assert rows.count() == 2
        assert "charging session" in rows.nth(1).inner_text()
        assert "2026-11-05 20:00" in rows.nth(1).inner_text()  # its business time in Helsinki
        assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(2)] == [
            "Top-up",
            "Charging session",
        ]  # readable names, not TopUpApplied
        screenshot(page, "customer")
    finally:
        page.close()
        tenant.close()


def test_a_wrong_key_does_not_sign_in(browser: Any, served: ServedApp) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{served.base_url}/support")
        page.fill("#key", "not-a-key")
        page.click("#sign-in")
        assert "not an API key" in page.inner_text("#error")
    finally:
        page.close()


def test_the_customer_page_shows_card_consent_subscription_and_declines_in_words(
    browser: Any, served: ServedApp, admin: httpx.Client
) -> None:
    tenant = make_tenant(
        served, admin, time_zone="Europe/Helsinki", test_clock=datetime(2026, 11, 1, 10, tzinfo=UTC)
    )
    define_catalog(tenant)
    driver = customer(tenant, card=CARD, name=f"Context Driver {uuid.uuid4().hex[:8]}")
    assert top_up(tenant, driver["id"], 5000).status_code == 201
    consent = tenant.emp.put(
        f"/v1/customers/{driver['id']}/auto-top-up",
        json={"enabled": True, "threshold_minor": 500, "amount_minor": 2000},
    )
    assert consent.status_code == 200, consent.text
    subscribe(tenant, driver["id"], "BASE-PRE")
    changed = tenant.emp.put(f"/v1/customers/{driver['id']}/payment-card", json=DECLINING_CARD)
    assert changed.status_code == 200, changed.text
    assert top_up(tenant, driver["id"], 1000).status_code == 402  # declined: a PaymentFailed line

    page = browser.new_page()
    try:
        page.goto(f"{served.base_url}/support/customers/{driver['id']}")
        page.fill("#key", tenant.keys["support"])
        page.click("#sign-in")  # back to the page that asked for the sign-in

        assert page.inner_text("h1") == driver["name"]
        assert page.inner_text("#card") == "Visa ending in 0341, expires 12/2030"
        assert page.inner_text("#auto-top-up") == "on: 20.00 EUR whenever the balance falls below 5.00 EUR"
        assert "BASE-PRE" in page.inner_text(".subscription")
        assert page.inner_text(".period") == "2026-11-01 to 2026-12-01", page.inner_text(".subscription")
        events = page.locator("tr.line td:nth-child(2)").all_text_contents()
        assert events == ["Top-up", "Card payment failed"]
        failed = page.locator("tr.line").nth(1).inner_text()
        assert "payment of 10.00 EUR failed: Card declined" in failed
        assert "card_declined" not in page.content() and "PrepaymentDebited" not in page.content()
        screenshot(page, "customer-context")
    finally:
        page.close()
        tenant.close()
