"""Seed 003's packages table as rules: what a package may be, and what a subscription may hold."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.errors import PackageNotAllowed, TopUpNotApplicable


class PackageKind(StrEnum):
    BASE = "base"
    BOLT_ON = "bolt_on"
    TOP_UP = "top_up"


class Payment(StrEnum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"
    ANY = "any"


@dataclass(frozen=True)
class PackageTerms:
    """A catalog package as acquired: its terms are copied, later catalog edits do not apply."""

    package_id: UUID
    code: str
    name: str
    kind: str
    recurring: bool
    payment: str
    price_minor: int


def check_package_definition(kind: str, recurring: bool, payment: str) -> None:
    """A catalog entry must be one the packages table knows."""
    if kind == PackageKind.BASE and not recurring:
        raise PackageNotAllowed("a base package must be recurring", field="recurring")
    if kind in (PackageKind.BASE, PackageKind.BOLT_ON) and recurring and payment == Payment.ANY:
        raise PackageNotAllowed(
            "a recurring package must be paid either prepaid or postpaid, not 'any'",
            field="payment",
        )
    if kind == PackageKind.BOLT_ON and not recurring and payment != Payment.ANY:
        raise PackageNotAllowed(
            "a non-recurring bolt-on serves prepaid and postpaid alike: payment must be 'any'",
            field="payment",
        )
    if kind == PackageKind.TOP_UP and (recurring or payment != Payment.PREPAID):
        raise PackageNotAllowed(
            "a top-up is non-recurring and prepaid", field="recurring" if recurring else "payment"
        )


def check_base_package(kind: str, payment: str, tariff: str) -> None:
    """At subscription creation: a base package whose payment is the tariff."""
    if kind != PackageKind.BASE:
        raise PackageNotAllowed(f"a subscription starts with a base package, not a {kind}")
    if payment != tariff:
        raise PackageNotAllowed(
            f"a {tariff} subscription needs a {tariff} base package; this one is {payment}"
        )


def check_purchase(kind: str, recurring: bool, payment: str, tariff: str) -> None:
    """A package bought for an existing subscription (REST/AgentView purchase)."""
    if kind == PackageKind.BASE:
        raise PackageNotAllowed("a base package is acquired only when the subscription starts")
    if kind == PackageKind.TOP_UP and tariff != Payment.PREPAID:
        raise TopUpNotApplicable("a top-up is not applicable to a postpaid subscription")
    if kind == PackageKind.BOLT_ON and recurring and payment != tariff:
        raise PackageNotAllowed(
            f"a recurring bolt-on on a {tariff} subscription must be {tariff}; this one is {payment}"
        )
