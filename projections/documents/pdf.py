"""Invoice and credit-note PDFs with fpdf2 (pure Python, no system libraries), in an embedded
DejaVu Sans that covers the euro sign and accented names. Layout by position, not by language:
dates as ISO 8601 in the EMP's time zone, amounts with a point, the currency's minor digits and
its code (1234.56 EUR). See docs/invoices.md for why this renderer."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from domain.money import format_amount
from projections.documents.model import INVOICE, Document

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "DejaVu"
FONTS = files("projections.documents") / "fonts"
_A_MOMENT = timedelta(microseconds=1)  # a period or due day ends at local midnight: its day is the one before
TITLES = {INVOICE: "Invoice", "credit_note": "Credit note"}


@functools.cache
def _font_paths() -> tuple[str, str]:
    return str(FONTS / "DejaVuSans.ttf"), str(FONTS / "DejaVuSans-Bold.ttf")


def pdf_document(doc: Document) -> bytes:
    return _Page(doc).render()


class _Page:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.zone = ZoneInfo(doc.seller.get("time_zone") or "UTC")
        from fpdf import FPDF  # imported when a document is drawn: fpdf2 and fontTools weigh 20-40 MiB

        self.pdf = FPDF(format="A4")
        self.pdf.set_title(f"{TITLES[doc.kind]} {doc.number}")
        self.pdf.set_creator("chargeledger")
        regular, bold = _font_paths()
        self.pdf.add_font(FONT, "", regular)
        self.pdf.add_font(FONT, "B", bold)
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.add_page()

    def money(self, minor: int) -> str:
        return format_amount(minor, self.doc.currency)

    def day(self, instant: datetime) -> str:
        return instant.astimezone(self.zone).date().isoformat()

    def text(
        self, value: str, *, size: float = 9, bold: bool = False, width: float = 0, align: str = "L"
    ) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.cell(
            width,
            5,
            value,
            align=align,
            new_x="RIGHT" if width else "LMARGIN",
            new_y="TOP" if width else "NEXT",
        )

    def render(self) -> bytes:
        doc, pdf = self.doc, self.pdf
        self.text(f"{TITLES[doc.kind]} {doc.number}", size=16, bold=True)
        pdf.ln(3)
        top = pdf.get_y()
        self.party("Seller", _seller_lines(doc.seller), x=pdf.l_margin, top=top)
        self.party("Buyer", _buyer_lines(doc.buyer), x=pdf.l_margin + 95, top=top)
        pdf.ln(4)
        for label, value in self.facts():
            self.text(label, bold=True, width=45)
            self.text(value)
        pdf.ln(4)
        self.lines_table()
        pdf.ln(2)
        for label, minor, bold in (
            ("Net total", doc.net_minor, False),
            ("VAT total", doc.vat_minor, False),
            ("Total" if doc.kind == INVOICE else "Total credited", doc.total_minor, True),
        ):
            self.text("", width=110)
            self.text(label, bold=bold, width=40)
            self.text(self.money(minor), bold=bold, width=0, align="R")
            pdf.ln(5)
        pdf.ln(4)
        for line in self.payment_lines():
            self.text(line)
        return bytes(pdf.output())

    def party(self, title: str, lines: list[str], *, x: float, top: float) -> None:
        pdf = self.pdf
        pdf.set_xy(x, top)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(90, 5, title, new_x="LEFT", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        for line in lines:
            pdf.cell(90, 5, line, new_x="LEFT", new_y="NEXT")
        pdf.set_x(pdf.l_margin)
        pdf.set_y(max(pdf.get_y(), top + 5 * (len(lines) + 1)))

    def facts(self) -> list[tuple[str, str]]:
        doc = self.doc
        facts = [("Number", doc.number), ("Issue date", self.day(doc.issued_at))]
        if doc.period_start is not None and doc.period_end is not None:
            last_day = doc.period_end - timedelta(microseconds=1)
            facts.append(("Period", f"{self.day(doc.period_start)} to {self.day(last_day)}"))
        if doc.due_at is not None:
            facts.append(("Due date", self.day(doc.due_at - timedelta(microseconds=1))))
        if doc.invoice_number:
            facts.append(("Credits invoice", doc.invoice_number))
        if doc.reason:
            facts.append(("Reason", doc.reason))
        facts.append(("Currency", doc.currency))
        return facts

    def lines_table(self) -> None:
        pdf = self.pdf
        widths = (10, 86, 24, 14, 20, 28)
        heads = ("#", "Description", "Net", "VAT %", "VAT", "Amount")
        pdf.set_font(FONT, "B", 8)
        for width, head in zip(widths, heads, strict=True):
            pdf.cell(width, 6, head, border="B", align="L" if head in ("#", "Description") else "R")
        pdf.ln(6)
        pdf.set_font(FONT, "", 8)
        for line in self.doc.lines:
            cells = (
                str(line["position"]),
                line["description"],
                self.money(line["net_minor"]),
                _percent(line["vat_rate_bp"]),
                self.money(line["vat_minor"]),
                self.money(line["amount_minor"]),
            )
            for index, (width, value) in enumerate(zip(widths, cells, strict=True)):
                if index == 1:
                    value = _fit(pdf, value, width - 1)
                pdf.cell(width, 5, value, align="L" if index < 2 else "R")
            pdf.ln(5)

    def payment_lines(self) -> list[str]:
        doc, seller = self.doc, self.doc.seller
        if doc.kind != INVOICE:
            return [
                f"This credit note reduces what invoice {doc.invoice_number} asks"
                f" by {self.money(doc.total_minor)}."
            ]
        lines = []
        if doc.due_at is not None:
            lines.append(f"Please pay {self.money(doc.total_minor)} by {self.day(doc.due_at - _A_MOMENT)}.")
        if seller.get("iban"):
            lines.append(f"IBAN {seller['iban']}, reference {doc.number}")
        return lines


def _seller_lines(seller: dict[str, Any]) -> list[str]:
    lines = [seller.get("legal_name") or seller.get("emp_name") or ""]
    lines += _address_lines(seller.get("address"))
    if seller.get("vat_id"):
        lines.append(f"VAT {seller['vat_id']}")
    return lines


def _buyer_lines(buyer: dict[str, Any]) -> list[str]:
    lines = [buyer.get("name") or ""]
    lines += _address_lines(buyer.get("address"))
    if buyer.get("vat_id"):
        lines.append(f"VAT {buyer['vat_id']}")
    lines.append(f"Customer {buyer.get('external_ref') or buyer.get('customer_id', '')}")
    return lines


def _address_lines(address: dict[str, Any] | None) -> list[str]:
    if not address:
        return []
    lines = [address.get("line1", ""), address.get("line2") or ""]
    lines.append(" ".join(part for part in (address.get("postal_code"), address.get("city")) if part))
    lines.append(address.get("country", ""))
    return [line for line in lines if line]


def _percent(rate_bp: int) -> str:
    whole, fraction = divmod(rate_bp, 100)
    return f"{whole}.{fraction:02d}"


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Cut a description to the column (with an ellipsis) rather than overprint the next one."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"
