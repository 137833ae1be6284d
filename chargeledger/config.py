"""Settings read from the environment (the README lists every variable)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from api.rate_limit import DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_RATE_LIMITS, RateLimit, parse_rate_limit

# The payment gateways there are adapters for (commands/simulated_gateway.py, stripe_gateway.py).
PAYMENT_GATEWAYS = ("simulated", "stripe")
# What the Stripe adapter cannot start without (docs/payments.md, "Going live with Stripe").
STRIPE_REQUIRED = ("CHARGELEDGER_STRIPE_SECRET_KEY", "CHARGELEDGER_STRIPE_WEBHOOK_SECRET")


@dataclass(frozen=True)
class StripeSettings:
    secret_key: str
    webhook_secret: str
    api_base: str | None = None  # None: Stripe's own


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path(".chargeledger")
    admin_token: str | None = None
    smtp_url: str | None = None
    mail_from: str = "billing@chargeledger.invalid"
    payment_gateway: str = "simulated"
    stripe: StripeSettings | None = None
    hmac_key: str | None = None
    pool_size: int = 8
    api_workers: int = 1
    write_wait_timeout: float = 10.0
    allow_insecure_outbound: bool = False
    # Where chargeledger is reached from outside: the start of the URLs it hands to OCPI peers
    # (unset: the address `serve` listens on).
    public_url: str | None = None
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    auth_failure_limit: RateLimit | None = DEFAULT_AUTH_FAILURE_LIMIT
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        gateway = env.get("CHARGELEDGER_PAYMENT_GATEWAY") or "simulated"
        if gateway not in PAYMENT_GATEWAYS:
            raise ValueError(
                f"CHARGELEDGER_PAYMENT_GATEWAY is {gateway!r};"
                f" it must be one of: {', '.join(PAYMENT_GATEWAYS)}"
            )
        stripe = None
        if gateway == "stripe":
            for name in STRIPE_REQUIRED:
                if not env.get(name):
                    raise ValueError(f"{name} is not set; CHARGELEDGER_PAYMENT_GATEWAY=stripe needs it")
            stripe = StripeSettings(
                secret_key=env["CHARGELEDGER_STRIPE_SECRET_KEY"],
                webhook_secret=env["CHARGELEDGER_STRIPE_WEBHOOK_SECRET"],
                api_base=(env.get("CHARGELEDGER_STRIPE_API_BASE") or "").rstrip("/") or None,
            )
        return cls(
            stripe=stripe,
            database_url=env.get("CHARGELEDGER_DATABASE_URL") or None,
            data_dir=Path(env.get("CHARGELEDGER_DATA_DIR", ".chargeledger")),
            admin_token=env.get("CHARGELEDGER_ADMIN_TOKEN") or None,
            smtp_url=env.get("CHARGELEDGER_SMTP_URL") or None,
            mail_from=env.get("CHARGELEDGER_MAIL_FROM", "billing@chargeledger.invalid"),
            payment_gateway=gateway,
            hmac_key=env.get("CHARGELEDGER_HMAC_KEY") or None,
            pool_size=int(env.get("CHARGELEDGER_POOL_SIZE", "8")),
            api_workers=int(env.get("CHARGELEDGER_API_WORKERS", "1")),
            rate_limits=rate_limits_from(env),
            auth_failure_limit=(
                parse_rate_limit(env["CHARGELEDGER_RATE_LIMIT_AUTH_FAILURES"])
                if "CHARGELEDGER_RATE_LIMIT_AUTH_FAILURES" in env
                else DEFAULT_AUTH_FAILURE_LIMIT
            ),
            allow_insecure_outbound=env.get("CHARGELEDGER_ALLOW_INSECURE_OUTBOUND") == "1",
            public_url=(env.get("CHARGELEDGER_PUBLIC_URL") or "").rstrip("/") or None,
        )


def rate_limits_from(env: Mapping[str, str]) -> dict[str, RateLimit]:
    """CHARGELEDGER_RATE_LIMIT_<ROLE>: `RATE[,BURST]` per key and second, or `off`; else the default."""
    limits: dict[str, RateLimit] = {}
    for role, default in DEFAULT_RATE_LIMITS.items():
        configured = env.get(f"CHARGELEDGER_RATE_LIMIT_{role.upper()}")
        limit = default if configured is None else parse_rate_limit(configured)
        if limit is not None:
            limits[role] = limit
    return limits
