"""Event-sourced aggregates with explicit, stably named event classes."""

from domain.aggregates.card_payment import CardPayment
from domain.aggregates.charging_session import ChargingSession, session_digest
from domain.aggregates.credit_note import CreditNote
from domain.aggregates.customer import AccountType, Customer, PaymentCard
from domain.aggregates.emp import Emp
from domain.aggregates.invoice import Invoice, InvoiceNumbering
from domain.aggregates.ocpi import CustomerToken, OcpiParty, ReceivedCdr
from domain.aggregates.package import Package
from domain.aggregates.psp_event import PspEvent
from domain.aggregates.subscription import Subscription
from domain.packages import PackageTerms

__all__ = [
    "AccountType",
    "CardPayment",
    "ChargingSession",
    "CreditNote",
    "Customer",
    "CustomerToken",
    "Emp",
    "Invoice",
    "InvoiceNumbering",
    "OcpiParty",
    "Package",
    "PackageTerms",
    "PaymentCard",
    "PspEvent",
    "ReceivedCdr",
    "Subscription",
    "session_digest",
]
