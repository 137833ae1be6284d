"""The support page lists a customer's invoices and credit notes, with links to their PDFs that
work with the page's cookie sign-in, over plain HTTP (the page's browser test is
test_support_page.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import ServedApp, make_tenant
from tests.e2e.test_invoice_documents_api import first_invoice, invoiced_tenant, pdf_text, postpaid_customer


@contextmanager
def signed_in(served: ServedApp, key: str) -> Iterator[httpx.Client]:
    """A client signed in to the support page: its cookie, no API key."""
    with httpx.Client(base_url=served.base_url, timeout=30.0) as client:
        login = client.post("/support/login", data={"key": key})
        assert login.status_code == 303, login.text
        assert "chargeledger_support_session" in client.cookies
        yield client


def test_the_customer_page_links_the_invoices_and_credit_notes_pdfs(
    served: ServedApp, admin: httpx.Client
) -> None:
    tenant = invoiced_tenant(served, admin)
    buyer = postpaid_customer(tenant)
    invoice = first_invoice(tenant, buyer["id"])
    note = tenant.emp.post(
        f"/v1/invoices/{invoice['id']}/credit-notes", json={"reason": "Broken charger", "full": True}
    )
    assert note.status_code == 201, note.text
    other = make_tenant(served, admin)

    with signed_in(served, tenant.keys["support"]) as support:
        page = support.get(f"/support/customers/{buyer['id']}")
        assert page.status_code == 200, page.text
        links = re.findall(r'href="(/support/(?:invoices|credit-notes)/[^"]+/pdf)"', page.text)
        assert links == [
            f"/support/invoices/{invoice['id']}/pdf",
            f"/support/credit-notes/{note.json()['id']}/pdf",
        ]
        assert invoice["number"] in page.text and note.json()["number"] in page.text
        assert "Broken charger" in page.text and "paid" in page.text  # credited in full: paid
        invoice_text = pdf_text(support.get(links[0]))
        note_text = pdf_text(support.get(links[1]))
        assert invoice["number"] in invoice_text and "Jürgen Müller-Ångström" in invoice_text
        assert note.json()["number"] in note_text and invoice["number"] in note_text

    with signed_in(served, other.keys["support"]) as stranger:  # another EMP's support
        assert [stranger.get(link).status_code for link in links] == [404, 404]
        assert stranger.get(f"/support/customers/{buyer['id']}").status_code == 404
    with httpx.Client(base_url=served.base_url, timeout=30.0) as anonymous:  # not signed in
        assert [anonymous.get(link).status_code for link in links] == [404, 404]
        with_api_key = anonymous.get(links[0], headers={"Authorization": f"Bearer {tenant.keys['emp']}"})
        assert with_api_key.status_code == 404  # the support page signs in by its cookie only
    other.close()
    tenant.close()


def test_a_customer_without_documents_says_so(served: ServedApp, admin: httpx.Client) -> None:
    tenant = make_tenant(served, admin)
    created = tenant.emp.post(
        "/v1/customers", json={"name": "Nadia None", "email": "n@example.com", "account_type": "prepaid"}
    )
    assert created.status_code == 201, created.text
    with signed_in(served, tenant.keys["emp"]) as support:
        page = support.get(f"/support/customers/{created.json()['id']}")
        assert page.status_code == 200
        assert "No invoices." in page.text and "No credit notes." in page.text
    tenant.close()
