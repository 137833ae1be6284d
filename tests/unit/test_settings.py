"""Settings that mean nothing stop the service at start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chargeledger.config import Settings


def test_the_simulated_gateway_is_the_default() -> None:
    assert Settings.from_env({}).payment_gateway == "simulated"
    assert Settings.from_env({"CHARGELEDGER_PAYMENT_GATEWAY": ""}).payment_gateway == "simulated"


@pytest.mark.parametrize("gateway", ["stripe", "Simulated", "paypal"])
def test_a_gateway_there_is_no_adapter_for_is_refused_by_name(gateway: str) -> None:
    with pytest.raises(ValueError, match="CHARGELEDGER_PAYMENT_GATEWAY"):
        Settings.from_env({"CHARGELEDGER_PAYMENT_GATEWAY": gateway})


def test_the_service_does_not_start_on_an_unknown_gateway() -> None:
    started = subprocess.run(
        [sys.executable, "-m", "chargeledger.cli", "serve"],
        env={**os.environ, "CHARGELEDGER_PAYMENT_GATEWAY": "stripe"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 2
    assert "CHARGELEDGER_PAYMENT_GATEWAY" in started.stderr


def test_the_public_url_is_read_without_a_trailing_slash() -> None:
    assert Settings.from_env({"CHARGELEDGER_PUBLIC_URL": "https://ledger.example.com/"}).public_url == (
        "https://ledger.example.com"
    )
    assert Settings.from_env({}).public_url is None
