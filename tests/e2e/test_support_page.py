"""The support page, exercised in headless Chromium: sign in, find a customer, see the chart
of the balance over time and the explanation lines for an instant."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import ServedApp, Tenant
from tests.e2e.ledger_story import CARD, customer, session, top_up

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI needs Debian's chromium for the support page test (.ci/run installs it)")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()


def test_support_finds_a_customer_and_explains_the_balance(
    browser: Any, served: ServedApp, tenant: Tenant
) -> None:
    ann = customer(tenant, card=CARD)
    name = f"Disputing Driver {ann['id'][:8]}"
    tenant.emp.post(
        "/v1/customers", json={"name": name, "email": "dd@example.com", "account_type": "prepaid"}
    )
    disputed = tenant.emp.get("/v1/customers", params={"limit": 500}).json()["items"][-1]
    assert disputed["name"] == name
    tenant.emp.put(f"/v1/customers/{disputed['id']}/payment-card", json=CARD)
    top_up(tenant, disputed["id"], 2000)
    session(tenant, disputed["id"], 450)
    time.sleep(1.1)  # the page's instant field has whole seconds
    middle = datetime.now(UTC)
    time.sleep(1.1)
    session(tenant, disputed["id"], 300)

    page = browser.new_page()
    try:
        page.goto(f"{served.base_url}/support")
        page.fill("#key", tenant.keys["support"])
        page.click("#sign-in")
        page.fill("#q", "Disputing Driver")
        page.click("#search")
        page.click(f"text={name}")

        assert page.inner_text("h1") == name
        assert page.inner_text("#balance-now") == "12.50 EUR"
        points = page.get_attribute("#balance-line", "points")
        assert points is not None and len(points.split()) == 1 + 2 * 3
        assert page.locator("tr.line").count() == 3

        page.fill("#at", middle.strftime("%Y-%m-%dT%H:%M:%S"))
        page.click("#explain")
        assert page.inner_text("#balance-at") == "15.50 EUR", page.url
        rows = page.locator("tr.line")
        assert rows.count() == 2
        assert "charging session" in rows.nth(1).inner_text()
        page.screenshot(path=str(served_screenshot_path()))
    finally:
        page.close()


def test_a_wrong_key_does_not_sign_in(browser: Any, served: ServedApp) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{served.base_url}/support")
        page.fill("#key", "not-a-key")
        page.click("#sign-in")
        assert "not an API key" in page.inner_text("#error")
    finally:
        page.close()


def served_screenshot_path() -> Any:
    from pathlib import Path

    path = Path(os.environ.get("PYTEST_SCREENSHOTS", "/tmp")) / "chargeledger-support-page.png"
    return path
