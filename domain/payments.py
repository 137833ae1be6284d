"""Card payments by purpose: what each charge is for, as recorded with its intent (the outbox),
and what settling it does to the balance is decided by the Customer from its type alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from domain.packages import PackageTerms


@dataclass(frozen=True)
class TopUpCharge:
    """A manual top-up from the customer portal (seed 000, option 2)."""

    purpose: ClassVar[str] = "manual_top_up"
    amount_minor: int


@dataclass(frozen=True)
class AutomaticTopUpCharge:
    """The automatic top-up below the threshold (seed 000, option 1), with the rule that fired."""

    purpose: ClassVar[str] = "automatic_top_up"
    amount_minor: int
    threshold_minor: int
    balance_at_trigger_minor: int
    trigger_sequence: int


@dataclass(frozen=True)
class PurchaseCharge:
    """A package paid up front by card: a top-up package, or a postpaid non-recurring bolt-on."""

    purpose: ClassVar[str] = "package_purchase"
    amount_minor: int
    subscription_id: UUID
    package_instance_id: UUID
    terms: PackageTerms


@dataclass(frozen=True)
class DebitCharge:
    """Recurring Payment of a posted, unpaid debit by the stored card."""

    purpose: ClassVar[str] = "recurring_payment"
    amount_minor: int
    debit_id: UUID
    dunning_retry: bool = False  # a retry of dunning's ladder (its step's mail tells the outcome)


Charge = TopUpCharge | AutomaticTopUpCharge | PurchaseCharge | DebitCharge
CHARGE_TYPES: tuple[type, ...] = (TopUpCharge, AutomaticTopUpCharge, PurchaseCharge, DebitCharge)


@dataclass(frozen=True)
class PendingPayment:
    """A requested card payment awaiting its outcome: the charge and the card it is made on
    (the card of the intent is the card charged, even if it is replaced meanwhile)."""

    charge: Charge
    card_token: str
    # The gateway's charge while it is processing (its outcome comes later, by webhook).
    processing_charge_id: str | None = None


@dataclass(frozen=True)
class UnpaidDebit:
    """A posted recurring prepayment not yet paid (Recurring Payment pays it when due)."""

    amount_minor: int
    due_at: datetime
    package_code: str
