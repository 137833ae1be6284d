"""The support page, exercised in headless Chromium: sign in, find a customer, see the chart
of the balance over time and the explanation lines for an instant."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import ServedApp, make_tenant
from tests.e2e.ledger_story import CARD, advance, customer, session, top_up

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
        page.fill("#q", "Disputing Driver")
        page.click("#search")
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
        page.screenshot(path=str(served_screenshot_path()))
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


def served_screenshot_path() -> Any:
    from pathlib import Path

    path = Path(os.environ.get("PYTEST_SCREENSHOTS", "/tmp")) / "chargeledger-support-page.png"
    return path
