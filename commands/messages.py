"""Commands: small frozen records with imperative names. `actor` says who asked."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.aggregates import PaymentCard


@dataclass(frozen=True)
class RegisterEmp:
    name: str
    currency: str
    auto_top_up_threshold_minor: int
    auto_top_up_amount_minor: int
    actor: str


@dataclass(frozen=True)
class RegisterCustomer:
    emp_id: UUID
    name: str
    email: str
    account_type: str
    external_ref: str | None
    actor: str


@dataclass(frozen=True)
class StorePaymentCard:
    emp_id: UUID
    customer_id: UUID
    card: PaymentCard
    actor: str


@dataclass(frozen=True)
class RemovePaymentCard:
    emp_id: UUID
    customer_id: UUID
    actor: str


@dataclass(frozen=True)
class SetAutoTopUp:
    emp_id: UUID
    customer_id: UUID
    enabled: bool
    threshold_minor: int | None
    amount_minor: int | None
    actor: str
