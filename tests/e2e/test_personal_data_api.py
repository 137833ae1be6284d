"""`DELETE /v1/customers/{id}/personal-data` over HTTP: the customer's name, e-mail and card
details leave every read model and the stored events; its money, history and the chains stay."""

from __future__ import annotations

import uuid

import psycopg

from tests.conftest import Tenant
from tests.e2e.ledger_story import DECLINING_CARD, balance, session, transactions, wait_until_mail_sent
from tests.smtp import SmtpServer


def rows(tenant: Tenant, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(tenant.served.system.database_url) as conn:
        return conn.execute(sql, params).fetchall()


def test_erasure_scrubs_the_read_models_and_the_stored_events(tenant: Tenant, smtp: SmtpServer) -> None:
    name, email = f"Erin {uuid.uuid4().hex[:8]}", f"erin-{uuid.uuid4().hex[:8]}@example.com"
    registered = tenant.emp.post(
        "/v1/registrations",
        json={
            "name": name,
            "email": email,
            "account_type": "prepaid",
            "card": DECLINING_CARD,
            "auto_top_up": True,
        },
    )
    assert registered.status_code == 201, registered.text
    erin = registered.json()["customer"]["id"]
    address = {"line1": "Erasmusgracht 1", "city": "Amsterdam", "postal_code": "1017", "country": "NL"}
    billing = {"billing": {"address": address}}
    assert tenant.emp.patch(f"/v1/customers/{erin}", json=billing).status_code == 200
    session(tenant, erin, 400)  # the automatic top-up is declined: a mail to the customer
    smtp.inbox.wait_for(email, timeout=10)
    wait_until_mail_sent(tenant, erin)
    before = (balance(tenant, erin), transactions(tenant, erin))

    erased = tenant.emp.delete(f"/v1/customers/{erin}/personal-data")

    assert erased.status_code == 204, erased.text
    customer = tenant.emp.get(f"/v1/customers/{erin}").json()
    assert (customer["name"], customer["email"], customer["payment_card"], customer["billing"]) == (
        None,
        None,
        None,
        None,
    )
    assert (balance(tenant, erin), transactions(tenant, erin)) == before
    for search in ({"q": name.split()[1]}, {"email": email}):  # nothing left to find them by
        found = tenant.emp.get("/v1/customers", params=search).json()["items"]
        assert erin not in [c["id"] for c in found]
    events = tenant.as_role("auditor").get(f"/v1/customers/{erin}/events").json()["items"]
    assert events[-1]["type"] == "PersonalDataErased"
    assert events[0]["data"]["name"] is None and events[0]["data"]["account_type"] == "prepaid"
    stored = b"".join(
        bytes(row[0])
        for row in rows(tenant, "SELECT state FROM ledger_events WHERE originator_id = %s", erin)
    )
    # Whole values: ids, times and sealed values may hold the card's "0341" by chance.
    for plain in (name, email, "Erasmusgracht", '"0341"'):
        assert plain.encode() not in stored
    assert rows(tenant, "SELECT recipient, body FROM mail_outbox WHERE customer_id = %s", erin) == [
        (None, "")
    ]
    verified = tenant.as_role("auditor").get("/v1/audit/verify").json()
    assert verified["ok"], verified["problems"]

    again = tenant.emp.delete(f"/v1/customers/{erin}/personal-data")
    assert again.status_code == 204
    assert len(tenant.as_role("auditor").get(f"/v1/customers/{erin}/events").json()["items"]) == len(events)


def test_only_the_emp_erases_and_only_its_own_customers(tenant: Tenant, other_tenant: Tenant) -> None:
    ann = tenant.emp.post(
        "/v1/customers", json={"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}
    ).json()["id"]

    assert tenant.as_role("support").delete(f"/v1/customers/{ann}/personal-data").status_code == 403
    assert other_tenant.emp.delete(f"/v1/customers/{ann}/personal-data").status_code == 404
    assert tenant.emp.delete(f"/v1/customers/{uuid.uuid4()}/personal-data").status_code == 404
    assert tenant.emp.get(f"/v1/customers/{ann}").json()["name"] == "Ann Driver"
