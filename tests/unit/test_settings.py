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


@pytest.mark.parametrize("gateway", ["Stripe", "Simulated", "paypal"])
def test_a_gateway_there_is_no_adapter_for_is_refused_by_name(gateway: str) -> None:
    with pytest.raises(ValueError, match="CHARGELEDGER_PAYMENT_GATEWAY"):
        Settings.from_env({"CHARGELEDGER_PAYMENT_GATEWAY": gateway})


STRIPE_ENV = {
    "CHARGELEDGER_PAYMENT_GATEWAY": "stripe",
    "CHARGELEDGER_STRIPE_SECRET_KEY": "sk_test_123",
    "CHARGELEDGER_STRIPE_WEBHOOK_SECRET": "whsec_123",
}


def test_stripe_is_selected_with_its_keys() -> None:
    settings = Settings.from_env({**STRIPE_ENV, "CHARGELEDGER_STRIPE_API_BASE": "http://127.0.0.1:12111/"})
    assert settings.payment_gateway == "stripe"
    assert settings.stripe is not None
    assert settings.stripe.api_base == "http://127.0.0.1:12111"
    assert Settings.from_env(STRIPE_ENV).stripe.api_base is None  # type: ignore[union-attr]


@pytest.mark.parametrize("missing", ["CHARGELEDGER_STRIPE_SECRET_KEY", "CHARGELEDGER_STRIPE_WEBHOOK_SECRET"])
def test_stripe_without_a_secret_is_refused_naming_it(missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        Settings.from_env({**STRIPE_ENV, missing: ""})


def serve(gateway: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGELEDGER_STRIPE")}
    return subprocess.run(
        [sys.executable, "-m", "chargeledger.cli", "serve"],
        env={**env, "CHARGELEDGER_PAYMENT_GATEWAY": gateway},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_service_does_not_start_with_stripe_but_no_secret_key() -> None:
    started = serve("stripe")
    assert started.returncode == 2
    assert "CHARGELEDGER_STRIPE_SECRET_KEY" in started.stderr


def test_the_service_does_not_start_on_an_unknown_gateway() -> None:
    started = serve("paypal")
    assert started.returncode == 2
    assert "CHARGELEDGER_PAYMENT_GATEWAY" in started.stderr


def test_the_public_url_is_read_without_a_trailing_slash() -> None:
    assert Settings.from_env({"CHARGELEDGER_PUBLIC_URL": "https://ledger.example.com/"}).public_url == (
        "https://ledger.example.com"
    )
    assert Settings.from_env({}).public_url is None
