"""Event-sourced aggregates with explicit, stably named event classes."""

from domain.aggregates.customer import AccountType, Customer, PaymentCard
from domain.aggregates.emp import Emp

__all__ = ["AccountType", "Customer", "Emp", "PaymentCard"]
