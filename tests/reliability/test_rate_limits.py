"""Per-key rate limits: a key over its role's limit gets 429 rate-limited with Retry-After, other
keys go on, the key recovers once the wait is over; the defaults never slow bulk ingestion."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.rate_limit import DEFAULT_RATE_LIMITS, RateLimit, parse_rate_limit
from chargeledger.config import Settings
from tests.conftest import ServedApp, Tenant
from tests.e2e.ledger_story import customer
from tests.reliability.serving import context_for, serving

TINY = RateLimit(rate=0.5, burst=3)  # a token every 2 s


def test_a_key_over_its_limit_gets_a_problem_with_retry_after(
    served: ServedApp, tenant: Tenant, other_tenant: Tenant
) -> None:
    limits = {"emp": TINY}
    with (
        serving(context_for(served.system, rate_limits=limits), served.system) as limited,
        limited.client(tenant.keys["emp"]) as client,
    ):
        within = [client.get("/v1/customers").status_code for _ in range(TINY.burst)]
        beyond = [client.get("/v1/customers") for _ in range(5)]

    assert within == [200] * TINY.burst
    refused = [response for response in beyond if response.status_code == 429]
    assert refused, [response.status_code for response in beyond]
    problem = refused[0].json()
    assert refused[0].headers["content-type"] == "application/problem+json"
    assert problem["type"] == "https://chargeledger.dev/problems/rate-limited"
    assert problem["status"] == 429 and problem["title"] and "0.5 requests per second" in problem["detail"]
    assert int(refused[0].headers["retry-after"]) >= 1


def test_one_keys_limit_leaves_other_keys_alone(
    served: ServedApp, tenant: Tenant, other_tenant: Tenant
) -> None:
    with serving(context_for(served.system, rate_limits={"emp": TINY}), served.system) as limited:
        exhausted = limited.client(tenant.keys["emp"])
        statuses = [exhausted.get("/v1/customers").status_code for _ in range(TINY.burst + 3)]
        assert 429 in statuses

        other_emp = limited.client(other_tenant.keys["emp"]).get("/v1/customers")
        same_emp_support = limited.client(tenant.keys["support"]).get(
            "/v1/customers"
        )  # support: unlimited here
        admin = limited.client(served.admin_token).get("/v1/jobs/runs")
        public = limited.client().get("/health")
        exhausted.close()

    assert other_emp.status_code == 200
    assert same_emp_support.status_code == 200
    assert admin.status_code == 200
    assert public.status_code == 200


def test_a_limited_key_recovers_after_retry_after(served: ServedApp, tenant: Tenant) -> None:
    limits = {"emp": TINY}
    with (
        serving(context_for(served.system, rate_limits=limits), served.system) as limited,
        limited.client(tenant.keys["emp"]) as client,
    ):
        refused = next(
            response
            for response in (client.get("/v1/customers") for _ in range(TINY.burst + 5))
            if response.status_code == 429
        )
        time.sleep(int(refused.headers["retry-after"]))
        recovered = client.get("/v1/customers")

    assert recovered.status_code == 200


def test_the_default_limits_never_slow_an_emps_bulk_ingestion(served: ServedApp, tenant: Tenant) -> None:
    """500 sessions as fast as 10 connections send them, each for its own driver (the same
    driver's concurrent writes are test_concurrency's subject)."""
    drivers = [customer(tenant, "postpaid")["id"] for _ in range(10)]
    ended = datetime.now(UTC) - timedelta(minutes=5)

    def ingest(driver: str) -> Counter[int]:
        statuses: Counter[int] = Counter()
        with httpx.Client(
            base_url=served.base_url, headers={"Authorization": f"Bearer {tenant.keys['emp']}"}
        ) as c:
            for number in range(50):
                body = {
                    "session_id": f"BULK-{driver}-{number}",
                    "customer_id": driver,
                    "started_at": (ended - timedelta(minutes=30)).isoformat(),
                    "ended_at": ended.isoformat(),
                    "energy_wh": 1000,
                    "cost_minor": 1,
                }
                statuses[c.post("/v1/sessions", json=body).status_code] += 1
        return statuses

    with ThreadPoolExecutor(max_workers=len(drivers)) as pool:
        statuses = sum(pool.map(ingest, drivers), Counter())

    assert statuses == Counter({201: 500})


def test_the_default_for_an_emp_key_is_generous() -> None:
    assert DEFAULT_RATE_LIMITS["emp"].rate >= 2000 and DEFAULT_RATE_LIMITS["emp"].burst >= 4000
    assert set(DEFAULT_RATE_LIMITS) == {"emp", "support", "auditor", "admin"}


def test_limits_are_configured_per_role_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CHARGELEDGER_RATE_LIMIT_EMP": "300,600",
            "CHARGELEDGER_RATE_LIMIT_SUPPORT": "5",
            "CHARGELEDGER_RATE_LIMIT_ADMIN": "off",
        }
    )

    assert settings.rate_limits == {
        "emp": RateLimit(rate=300, burst=600),
        "support": RateLimit(rate=5, burst=10),
        "auditor": DEFAULT_RATE_LIMITS["auditor"],
    }
    assert Settings.from_env({}).rate_limits == DEFAULT_RATE_LIMITS


@pytest.mark.parametrize("text", ["fast", "10,", "0", "-1,5", "5,0", "1,2,3"])
def test_a_limit_that_means_nothing_is_refused_at_start(text: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        parse_rate_limit(text)
