"""Invoices a customer can receive, over HTTP: seller and buyer details, the PDF and the Peppol
BIS 3 e-invoice (validated with the official rules), payments on invoices, credit notes and
their limits and series, and the invoice mail with its PDF."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pypdf import PdfReader

from tests.conftest import ServedApp, Tenant, make_tenant
from tests.e2e.ledger_story import (
    advance,
    balance,
    define_catalog,
    instant,
    problem_code,
    session,
    subscribe,
)
from tests.peppol.validator import fatal_problems
from tests.smtp import SmtpServer

SELLER = {
    "legal_name": "Volt Ström Oy",
    "vat_id": "FI12345678",
    "address": {"line1": "Mannerheimintie 1", "city": "Helsinki", "postal_code": "00100", "country": "FI"},
    "electronic_address": {"scheme": "0216", "id": "003712345678"},
    "payment_terms_days": 14,
    "iban": "FI2112345600000785",
}
BILLING = {
    "address": {
        "line1": "Åkerbärsvägen 5",
        "line2": "B 12",
        "city": "Espoo",
        "postal_code": "02100",
        "country": "FI",
    },
    "vat_id": "FI87654321",
    "electronic_address": {"scheme": "0216", "id": "003787654321"},
}


def money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d} EUR"


def invoiced_tenant(served: ServedApp, admin: httpx.Client, *, delivery: str = "none") -> Tenant:
    tenant = make_tenant(
        served, admin, test_clock=datetime.now(UTC).replace(microsecond=0), time_zone="Europe/Helsinki"
    )
    changed = admin.patch(
        f"/v1/emps/{tenant.id}", json={"seller": SELLER, "vat_rate_bp": 2400, "invoice_delivery": delivery}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["seller"]["legal_name"] == "Volt Ström Oy"
    assert changed.json()["invoice_delivery"] == delivery
    define_catalog(tenant)
    return tenant


def postpaid_customer(tenant: Tenant, email: str = "jurgen@example.com") -> dict[str, Any]:
    body = {
        "name": "Jürgen Müller-Ångström",
        "email": email,
        "account_type": "postpaid",
        "external_ref": "C-77",
    }
    created = tenant.emp.post("/v1/customers", json=body)
    assert created.status_code == 201, created.text
    changed = tenant.emp.patch(f"/v1/customers/{created.json()['id']}", json={"billing": BILLING})
    assert changed.status_code == 200, changed.text
    assert changed.json()["billing"]["address"]["city"] == "Espoo"
    found: dict[str, Any] = changed.json()
    return found


def first_invoice(tenant: Tenant, customer_id: str) -> dict[str, Any]:
    subscription = subscribe(tenant, customer_id, "BASE-POST")
    session(tenant, customer_id, 1234)
    adjusted = tenant.as_role("support").post(
        f"/v1/customers/{customer_id}/adjustments", json={"amount_minor": 400, "reason": "Broken charger"}
    )
    assert adjusted.status_code == 201, adjusted.text
    advance(tenant, instant(subscription["started_at"]) + timedelta(days=33))
    [invoice] = tenant.emp.get("/v1/invoices", params={"customer_id": customer_id}).json()["items"]
    found: dict[str, Any] = invoice
    return found


def pdf_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/pdf")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_an_invoice_as_json_pdf_and_peppol_e_invoice(served: ServedApp, admin: httpx.Client) -> None:
    tenant = invoiced_tenant(served, admin)
    buyer = postpaid_customer(tenant)

    invoice = first_invoice(tenant, buyer["id"])

    assert (
        invoice["status"] == "open" and invoice["amount_paid_minor"] == 0 and invoice["credited_minor"] == 0
    )
    assert [line["position"] for line in invoice["lines"]] == list(range(1, len(invoice["lines"]) + 1))
    adjustment = [line for line in invoice["lines"] if line["kind"] == "adjustment"]
    assert [line["amount_minor"] for line in adjustment] == [-400]
    for line in invoice["lines"]:
        assert line["net_minor"] + line["vat_minor"] == line["amount_minor"] and line["vat_rate_bp"] == 2400
    issued = instant(invoice["issued_at"])
    assert instant(invoice["due_at"]) - issued > timedelta(days=14)
    assert instant(invoice["due_at"]) - issued <= timedelta(days=15, hours=1)
    assert invoice["due_at"].endswith("Z")

    text = pdf_text(tenant.emp.get(f"/v1/invoices/{invoice['id']}/pdf"))
    for expected in (
        invoice["number"],
        "Volt Ström Oy",
        "FI12345678",
        "Jürgen Müller-Ångström",
        "Åkerbärsvägen 5",
    ):
        assert expected in text
    for line in invoice["lines"]:
        assert line["description"] in text and money(line["amount_minor"]) in text
    for total in ("net_minor", "vat_minor", "total_minor"):
        assert money(invoice[total]) in text
    assert "FI2112345600000785" in text
    negotiated = tenant.as_role("auditor").get(
        f"/v1/invoices/{invoice['id']}", headers={"Accept": "application/pdf"}
    )
    assert pdf_text(negotiated) == text

    ubl = tenant.as_role("support").get(f"/v1/invoices/{invoice['id']}/ubl")
    assert ubl.status_code == 200 and ubl.headers["content-type"].startswith("application/xml")
    assert fatal_problems(ubl.content) == []
    assert f"<cbc:ID>{invoice['number']}</cbc:ID>".encode() in ubl.content
    assert b"<cbc:BuyerReference>C-77</cbc:BuyerReference>" in ubl.content

    # Details changed later: the issued invoice keeps those it was issued with.
    moved = {**BILLING, "address": {**BILLING["address"], "city": "Vantaa"}}
    assert tenant.emp.patch(f"/v1/customers/{buyer['id']}", json={"billing": moved}).status_code == 200
    assert "Espoo" in pdf_text(tenant.emp.get(f"/v1/invoices/{invoice['id']}/pdf"))
    events = tenant.emp.get(f"/v1/customers/{buyer['id']}/events").json()["items"]
    cities = [
        e["data"]["changes"]["billing"]["address"]["city"]
        for e in events
        if e["type"].endswith("DetailsChanged")
    ]
    assert cities == ["Espoo", "Vantaa"]
    tenant.close()


def test_an_e_invoice_names_the_details_it_lacks(served: ServedApp, admin: httpx.Client) -> None:
    tenant = make_tenant(served, admin, test_clock=datetime.now(UTC).replace(microsecond=0))
    define_catalog(tenant)
    created = tenant.emp.post(
        "/v1/customers", json={"name": "Ann", "email": "a@example.com", "account_type": "postpaid"}
    )
    invoice = first_invoice(tenant, created.json()["id"])

    refused = tenant.emp.get(f"/v1/invoices/{invoice['id']}/ubl")

    assert refused.status_code == 422 and problem_code(refused) == "validation-error"
    for missing in ("seller.legal_name", "seller.electronic_address", "billing.electronic_address"):
        assert missing in refused.json()["detail"]
    assert tenant.emp.get(f"/v1/invoices/{invoice['id']}/pdf").status_code == 200
    tenant.close()


def test_payments_move_an_invoice_from_open_to_paid(served: ServedApp, admin: httpx.Client) -> None:
    tenant = invoiced_tenant(served, admin)
    buyer = postpaid_customer(tenant)
    invoice = first_invoice(tenant, buyer["id"])
    before = balance(tenant, buyer["id"])
    now = instant(tenant.emp.get(f"/v1/emps/{tenant.id}").json()["test_clock"]["now"])
    url = f"/v1/invoices/{invoice['id']}/payments"

    part = tenant.emp.post(
        url, json={"amount_minor": 1000, "paid_at": now.isoformat(), "reference": "bank 1"}
    )
    too_much = tenant.emp.post(
        url, json={"amount_minor": invoice["total_minor"], "paid_at": now.isoformat(), "reference": "x"}
    )
    future = tenant.emp.post(
        url, json={"amount_minor": 1, "paid_at": (now + timedelta(days=1)).isoformat(), "reference": "x"}
    )
    by_support = tenant.as_role("support").post(
        url, json={"amount_minor": 1, "paid_at": now.isoformat(), "reference": "x"}
    )
    halfway = tenant.emp.get(f"/v1/invoices/{invoice['id']}").json()
    rest = tenant.emp.post(
        url,
        json={
            "amount_minor": invoice["total_minor"] - 1000,
            "paid_at": now.isoformat(),
            "reference": "bank 2",
        },
    )
    paid = tenant.emp.get(f"/v1/invoices/{invoice['id']}").json()

    assert part.status_code == 201, part.text
    assert part.json()["amount_minor"] == 1000 and part.json()["invoice_id"] == invoice["id"]
    assert too_much.status_code == 422 and problem_code(too_much) == "over-limit"
    assert future.status_code == 422 and problem_code(future) == "invalid-period"
    assert by_support.status_code == 403
    assert halfway["status"] == "open" and halfway["amount_paid_minor"] == 1000
    assert rest.status_code == 201 and paid["status"] == "paid"
    assert paid["amount_paid_minor"] == invoice["total_minor"]
    assert balance(tenant, buyer["id"]) == before  # postpaid: payments on invoices do not move it
    tenant.close()


def test_credit_notes_take_back_no_more_than_is_left(served: ServedApp, admin: httpx.Client) -> None:
    tenant = invoiced_tenant(served, admin)
    buyer = postpaid_customer(tenant)
    invoice = first_invoice(tenant, buyer["id"])
    before = balance(tenant, buyer["id"])
    session_line = next(line for line in invoice["lines"] if line["kind"] == "session")
    url = f"/v1/invoices/{invoice['id']}/credit-notes"

    first = tenant.as_role("support").post(
        url,
        json={
            "reason": "Session billed twice",
            "lines": [{"line": session_line["position"], "amount_minor": 234}],
        },
    )
    over_line = tenant.emp.post(
        url, json={"reason": "x", "lines": [{"line": session_line["position"], "amount_minor": 1001}]}
    )
    no_line = tenant.emp.post(url, json={"reason": "x", "lines": [{"line": 99, "amount_minor": 1}]})
    both = tenant.emp.post(url, json={"reason": "x", "lines": [{"line": 1, "amount_minor": 1}], "full": True})
    rest = tenant.emp.post(url, json={"reason": "Goodwill", "full": True})
    nothing_left = tenant.emp.post(url, json={"reason": "Again", "full": True})
    by_auditor = tenant.as_role("auditor").post(url, json={"reason": "x", "full": True})

    assert first.status_code == 201, first.text
    note = first.json()
    assert (note["number"], note["sequence"], note["total_minor"]) == ("CN-000001", 1, 234)
    assert note["lines"][0]["net_minor"] + note["lines"][0]["vat_minor"] == 234
    assert over_line.status_code == 422 and problem_code(over_line) == "over-limit"
    assert "lines[0].amount_minor" in over_line.text
    assert no_line.status_code == 400 or no_line.status_code == 422
    assert both.status_code in (400, 422)
    assert rest.status_code == 201, rest.text
    assert rest.json()["number"] == "CN-000002"
    positive = sum(line["amount_minor"] for line in invoice["lines"] if line["amount_minor"] > 0)
    assert (
        rest.json()["total_minor"] == invoice["total_minor"] - 234
        or rest.json()["total_minor"] <= positive - 234
    )
    assert nothing_left.status_code == 422 and problem_code(nothing_left) == "over-limit"
    assert by_auditor.status_code == 403

    credited = tenant.emp.get(f"/v1/invoices/{invoice['id']}").json()
    assert credited["credited_minor"] == 234 + rest.json()["total_minor"]
    assert credited["status"] == "paid"
    assert balance(tenant, buyer["id"]) == before + credited["credited_minor"]
    listed = tenant.as_role("auditor").get("/v1/credit-notes", params={"customer_id": buyer["id"]}).json()
    assert [item["number"] for item in listed["items"]] == ["CN-000001", "CN-000002"]
    for item in listed["items"]:
        ubl = tenant.emp.get(f"/v1/credit-notes/{item['id']}/ubl")
        assert ubl.status_code == 200 and fatal_problems(ubl.content) == []
        assert b"<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>" in ubl.content
        assert f"<cbc:ID>{invoice['number']}</cbc:ID>".encode() in ubl.content  # BillingReference
        text = pdf_text(tenant.emp.get(f"/v1/credit-notes/{item['id']}/pdf"))
        assert item["number"] in text and invoice["number"] in text and money(item["total_minor"]) in text
    tenant.close()


def test_credit_notes_issued_at_once_are_numbered_without_gaps(
    served: ServedApp, admin: httpx.Client
) -> None:
    tenant = invoiced_tenant(served, admin)
    buyer = postpaid_customer(tenant)
    invoice = first_invoice(tenant, buyer["id"])
    url = f"/v1/invoices/{invoice['id']}/credit-notes"
    clients = [served.client(tenant.keys["emp"]) for _ in range(6)]

    def credit(index: int) -> httpx.Response:
        # A writer that lost too many races answers 503: the client retries with the same key.
        for _ in range(20):
            answer = clients[index % len(clients)].post(
                url,
                json={"reason": f"cent {index}", "lines": [{"line": 1, "amount_minor": 1}]},
                headers={"Idempotency-Key": f"cent-{index}"},
            )
            if answer.status_code != 503:
                break
        return answer

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(credit, range(12)))

    assert [a.status_code for a in answers] == [201] * 12, [a.text for a in answers if a.status_code != 201]
    sequences = sorted(a.json()["sequence"] for a in answers)
    assert sequences == list(range(1, 13))
    assert tenant.emp.get(f"/v1/invoices/{invoice['id']}").json()["credited_minor"] == 12
    for client in clients:
        client.close()
    tenant.close()


def test_issued_invoices_and_credit_notes_are_mailed_once_with_their_pdf(
    served: ServedApp, admin: httpx.Client, smtp: SmtpServer
) -> None:
    tenant = invoiced_tenant(served, admin, delivery="email")
    email = f"buyer-{tenant.id[:8]}@example.com"
    buyer = postpaid_customer(tenant, email)
    invoice = first_invoice(tenant, buyer["id"])
    note = tenant.emp.post(
        f"/v1/invoices/{invoice['id']}/credit-notes", json={"reason": "Goodwill", "full": True}
    )
    assert note.status_code == 201, note.text

    mails = smtp.inbox.wait_for(email, count=2, timeout=10)

    subjects = sorted(mail["Subject"] for mail in mails)
    assert subjects == sorted(
        [
            f"Credit note {note.json()['number']} from Volt Ström Oy",
            f"Invoice {invoice['number']} from Volt Ström Oy",
        ]
    )
    for mail in mails:
        [attachment] = [part for part in mail.iter_attachments()]
        assert attachment.get_content_type() == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(attachment.get_content())).pages)
        assert "Jürgen Müller-Ångström" in text
    assert len(smtp.inbox.to(email)) == 2
    tenant.close()


def test_a_seller_without_an_iban_still_sends_a_valid_e_invoice(
    served: ServedApp, admin: httpx.Client
) -> None:
    """No account to name: the e-invoice carries no payment means rather than a credit transfer
    without its account (BR-61, found by the session-end check of tests/conftest.py)."""
    tenant = invoiced_tenant(served, admin)
    without_iban = {key: value for key, value in SELLER.items() if key != "iban"}
    assert admin.patch(f"/v1/emps/{tenant.id}", json={"seller": without_iban}).status_code == 200
    buyer = postpaid_customer(tenant)

    invoice = first_invoice(tenant, buyer["id"])

    ubl = tenant.emp.get(f"/v1/invoices/{invoice['id']}/ubl")
    assert ubl.status_code == 200, ubl.text
    assert fatal_problems(ubl.content) == []
    tenant.close()
