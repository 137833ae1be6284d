"""Event-sourced aggregates with explicit, stably named event classes."""

from domain.aggregates.charging_session import ChargingSession
from domain.aggregates.customer import AccountType, Customer, PaymentCard, PaymentPurpose
from domain.aggregates.emp import Emp
from domain.aggregates.invoice import Invoice, InvoiceNumbering
from domain.aggregates.package import Package
from domain.aggregates.subscription import PackageTerms, Subscription

__all__ = [
    "AccountType",
    "ChargingSession",
    "Customer",
    "Emp",
    "Invoice",
    "InvoiceNumbering",
    "Package",
    "PackageTerms",
    "PaymentCard",
    "PaymentPurpose",
    "Subscription",
]
