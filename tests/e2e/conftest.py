"""Headless Chromium for the support page's browser tests, and where their screenshots go."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI needs Debian's chromium for the support page tests (.ci/run installs it)")


# Per module: test_api_reference.py starts a Playwright of its own, which cannot run inside another.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
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


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page in a browser context of its own: no cookie of another test."""
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG of what the browser shows, to look at (PYTEST_SCREENSHOTS, else /tmp)."""
    path = Path(os.environ.get("PYTEST_SCREENSHOTS", "/tmp")) / f"chargeledger-support-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
