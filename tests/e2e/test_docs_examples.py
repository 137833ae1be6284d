"""The curl examples of the docs are run, in order, against the served API: they must work. The
EMP they are given is on a test clock, as an integrator trying the API would have it."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServedApp, make_tenant
from tests.ocpi_cpo import LocalCpo

DOCS = Path(__file__).resolve().parents[2] / "docs"
RUNNABLE = sorted(p for p in DOCS.glob("*.md") if "<!-- runnable" in p.read_text())
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def test_the_runnable_pages_are_found() -> None:
    names = {p.name for p in RUNNABLE}
    expected = {
        "accounts.md",
        "billing.md",
        "packages.md",
        "sessions.md",
        "top-ups.md",
        "webhooks.md",
        "ocpi.md",
        "invoices.md",
        "keys.md",
        "payments.md",
        "personal-data.md",
    }
    assert expected <= names


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: p.name)
def test_the_examples_of_a_page_run(page: Path, served: ServedApp, admin: httpx.Client) -> None:
    tenant = make_tenant(served, admin, test_clock=datetime(2026, 12, 1, 12, tzinfo=UTC))
    script = "\n".join(BLOCK.findall(page.read_text()))
    assert script.strip(), f"{page.name} has no sh examples"
    cpo = LocalCpo(token_b="the-cpos-token-b")  # docs/ocpi.md's operator, serving its versions
    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={
                **os.environ,
                "URL": served.base_url,
                "EMP_KEY": tenant.keys["emp"],
                "ADMIN_KEY": served.admin_token,
                "EMP_ID": tenant.id,
                "CPO_VERSIONS_URL": cpo.versions_url,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        cpo.stop()
    assert result.returncode == 0, f"{page.name} failed:\n{result.stdout}\n{result.stderr}"
    assert "problems/internal-error" not in result.stdout
    tenant.close()
