"""UBL 2.1 invoices and credit notes conforming to Peppol BIS Billing 3.0 (EN 16931), with lxml.
VAT category S for a rate above 0, Z for 0; a line of negative amount has quantity -1 (a price
is never negative, BR-27)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from domain.documents import missing_for_e_invoice
from domain.errors import SetUpRequired
from domain.money import minor_unit_digits
from projections.documents.model import INVOICE, Document

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
ROOTS = {
    INVOICE: "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "credit_note": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
_A_MOMENT = timedelta(microseconds=1)
SEPA_CREDIT_TRANSFER = "58"


def ubl_document(doc: Document) -> bytes:
    """The document as UBL XML; 422 naming the seller or buyer details it lacks."""
    missing = missing_for_e_invoice(doc.seller, doc.buyer)
    if not doc.lines:
        missing.append("lines")
    if missing:
        raise SetUpRequired(
            f"an e-invoice needs details this {doc.kind.replace('_', ' ')} lacks: {', '.join(missing)}"
            " (PATCH /v1/emps/{id} seller, PATCH /v1/customers/{id} billing)",
            field=missing[0],
        )
    return _Writer(doc).xml()


class _Writer:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.digits = minor_unit_digits(doc.currency)
        self.zone = ZoneInfo(doc.seller.get("time_zone") or "UTC")
        self.invoice = doc.kind == INVOICE

    def amount(self, parent: etree._Element, name: str, minor: int) -> None:
        sign = "-" if minor < 0 else ""
        whole, fraction = divmod(abs(minor), 10**self.digits)
        text = f"{sign}{whole}.{fraction:0{self.digits}d}" if self.digits else f"{sign}{whole}"
        self.cbc(parent, name, text, currencyID=self.doc.currency)

    def cbc(self, parent: etree._Element, name: str, text: str, **attributes: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{CBC}}}{name}", attributes)
        element.text = text
        return element

    def cac(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    def date(self, instant: Any) -> str:
        return str(instant.astimezone(self.zone).date().isoformat())

    def xml(self) -> bytes:
        doc = self.doc
        root = etree.Element(
            f"{{{ROOTS[doc.kind]}}}{'Invoice' if self.invoice else 'CreditNote'}",
            nsmap={None: ROOTS[doc.kind], "cac": CAC, "cbc": CBC},
        )
        self.cbc(root, "CustomizationID", CUSTOMIZATION)
        self.cbc(root, "ProfileID", PROFILE)
        self.cbc(root, "ID", doc.number)
        self.cbc(root, "IssueDate", self.date(doc.issued_at))
        if self.invoice:
            if doc.due_at is not None:
                self.cbc(root, "DueDate", self.date(doc.due_at))
            self.cbc(root, "InvoiceTypeCode", "380")
        else:
            self.cbc(root, "CreditNoteTypeCode", "381")
            if doc.reason:
                self.cbc(root, "Note", doc.reason)
        self.cbc(root, "DocumentCurrencyCode", doc.currency)
        buyer = doc.buyer
        self.cbc(
            root,
            "BuyerReference",
            buyer.get("buyer_reference") or buyer.get("external_ref") or buyer["customer_id"],
        )
        if self.invoice and doc.period_start is not None and doc.period_end is not None:
            period = self.cac(root, "InvoicePeriod")
            self.cbc(period, "StartDate", self.date(doc.period_start))
            # The period ends at local midnight: its last day is the one before.
            self.cbc(period, "EndDate", (doc.period_end.astimezone(self.zone) - _A_MOMENT).date().isoformat())
        if not self.invoice:
            reference = self.cac(self.cac(root, "BillingReference"), "InvoiceDocumentReference")
            self.cbc(reference, "ID", doc.invoice_number or "")
            if doc.invoice_issued_at is not None:
                self.cbc(reference, "IssueDate", self.date(doc.invoice_issued_at))
        self.party(self.cac(root, "AccountingSupplierParty"), doc.seller, doc.seller.get("legal_name", ""))
        self.party(self.cac(root, "AccountingCustomerParty"), buyer, buyer.get("name", ""))
        iban = doc.seller.get("iban")
        if iban:  # a credit transfer names the account to pay to (BR-61): without one, no means
            means = self.cac(root, "PaymentMeans")
            self.cbc(means, "PaymentMeansCode", SEPA_CREDIT_TRANSFER)
            self.cbc(means, "PaymentID", doc.number if self.invoice else doc.invoice_number or doc.number)
            self.cbc(self.cac(means, "PayeeFinancialAccount"), "ID", iban.replace(" ", ""))
        if self.invoice:
            terms = doc.seller.get("payment_terms_days", 14)
            self.cbc(self.cac(root, "PaymentTerms"), "Note", f"{terms} days net")
        self.tax_total(root)
        totals = self.cac(root, "LegalMonetaryTotal")
        self.amount(totals, "LineExtensionAmount", doc.net_minor)
        self.amount(totals, "TaxExclusiveAmount", doc.net_minor)
        self.amount(totals, "TaxInclusiveAmount", doc.total_minor)
        self.amount(totals, "PayableAmount", doc.total_minor)
        for line in doc.lines:
            self.line(root, line)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))

    def party(self, parent: etree._Element, details: dict[str, Any], legal_name: str) -> None:
        party = self.cac(parent, "Party")
        endpoint = details["electronic_address"]
        self.cbc(party, "EndpointID", endpoint["id"], schemeID=endpoint["scheme"])
        address = details["address"]
        postal = self.cac(party, "PostalAddress")
        if address.get("line1"):
            self.cbc(postal, "StreetName", address["line1"])
        if address.get("line2"):
            self.cbc(postal, "AdditionalStreetName", address["line2"])
        if address.get("city"):
            self.cbc(postal, "CityName", address["city"])
        if address.get("postal_code"):
            self.cbc(postal, "PostalZone", address["postal_code"])
        self.cbc(self.cac(postal, "Country"), "IdentificationCode", address["country"])
        if details.get("vat_id"):
            tax_scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(tax_scheme, "CompanyID", details["vat_id"])
            self.cbc(self.cac(tax_scheme, "TaxScheme"), "ID", "VAT")
        self.cbc(self.cac(party, "PartyLegalEntity"), "RegistrationName", legal_name)

    def category(self, parent: etree._Element, name: str, rate_bp: int) -> None:
        category = self.cac(parent, name)
        self.cbc(category, "ID", "S" if rate_bp > 0 else "Z")
        self.cbc(category, "Percent", _percent(rate_bp))
        self.cbc(self.cac(category, "TaxScheme"), "ID", "VAT")

    def tax_total(self, root: etree._Element) -> None:
        doc = self.doc
        total = self.cac(root, "TaxTotal")
        self.amount(total, "TaxAmount", doc.vat_minor)
        by_rate: dict[int, list[int]] = {}
        for line in doc.lines:
            sums = by_rate.setdefault(line["vat_rate_bp"], [0, 0])
            sums[0] += line["net_minor"]
            sums[1] += line["vat_minor"]
        for rate, (net, vat) in sorted(by_rate.items()):
            subtotal = self.cac(total, "TaxSubtotal")
            self.amount(subtotal, "TaxableAmount", net)
            self.amount(subtotal, "TaxAmount", vat)
            self.category(subtotal, "TaxCategory", rate)

    def line(self, root: etree._Element, line: dict[str, Any]) -> None:
        element = self.cac(root, "InvoiceLine" if self.invoice else "CreditNoteLine")
        self.cbc(element, "ID", str(line["position"]))
        quantity = "-1" if line["net_minor"] < 0 else "1"
        self.cbc(
            element, "InvoicedQuantity" if self.invoice else "CreditedQuantity", quantity, unitCode="C62"
        )
        self.amount(element, "LineExtensionAmount", line["net_minor"])
        item = self.cac(element, "Item")
        self.cbc(item, "Name", line["description"][:200])
        self.category(item, "ClassifiedTaxCategory", line["vat_rate_bp"])
        self.amount(self.cac(element, "Price"), "PriceAmount", abs(line["net_minor"]))


def _percent(rate_bp: int) -> str:
    whole, fraction = divmod(rate_bp, 100)
    return f"{whole}.{fraction:02d}"
