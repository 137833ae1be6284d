"""Commands: small frozen records with imperative names. `actor` says who asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.aggregates import PaymentCard


@dataclass(frozen=True)
class RegisterEmp:
    name: str
    currency: str
    auto_top_up_threshold_minor: int
    auto_top_up_amount_minor: int
    actor: str
    vat_rate_bp: int = 0
    time_zone: str = "UTC"
    test_clock_now: datetime | None = None
    ocpi_country_code: str | None = None
    ocpi_party_id: str | None = None


@dataclass(frozen=True)
class ChangeEmp:
    emp_id: UUID
    changes: dict[str, Any]  # setting -> new value (Emp.CHANGEABLE)
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
class StartCardSetup:
    """A SetupIntent for the EMP's front end: the card is stored when Stripe reports it set up."""

    emp_id: UUID
    customer_id: UUID
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


@dataclass(frozen=True)
class DefinePackage:
    emp_id: UUID
    code: str
    name: str
    kind: str
    recurring: bool
    payment: str
    price_minor: int
    actor: str


@dataclass(frozen=True)
class StartSubscription:
    emp_id: UUID
    customer_id: UUID
    base_package: str
    billing_day: int | None
    actor: str
    started_at: datetime | None = None  # default: now; earlier periods are then caught up


@dataclass(frozen=True)
class EndSubscription:
    emp_id: UUID
    subscription_id: UUID
    at: datetime | None  # default: now
    actor: str


@dataclass(frozen=True)
class ChangeBasePackage:
    emp_id: UUID
    subscription_id: UUID
    package: str
    at: datetime | None  # default: now
    actor: str


@dataclass(frozen=True)
class PurchasePackage:
    emp_id: UUID
    subscription_id: UUID
    package: str
    actor: str
    request_key: str | None = None


@dataclass(frozen=True)
class CancelPackage:
    emp_id: UUID
    subscription_id: UUID
    package_instance_id: UUID
    actor: str


@dataclass(frozen=True)
class RecordSession:
    emp_id: UUID
    session_id: str
    customer_id: UUID
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    cost_minor: int
    location: str | None
    actor: str


@dataclass(frozen=True)
class TopUpBalance:
    """A manual top-up paid by the stored card (seed 000, option 2's customer portal)."""

    emp_id: UUID
    customer_id: UUID
    amount_minor: int
    actor: str
    request_key: str | None = None


@dataclass(frozen=True)
class Register:
    """The registration site's flow: customer, card, consent and subscription, all or none."""

    emp_id: UUID
    name: str
    email: str
    account_type: str
    card: PaymentCard | None
    auto_top_up: bool
    base_package: str | None
    actor: str


@dataclass(frozen=True)
class CompleteCardPayment:
    customer_id: UUID
    payment_id: UUID
    actor: str


@dataclass(frozen=True)
class RecordAdjustment:
    emp_id: UUID
    customer_id: UUID
    amount_minor: int
    reason: str
    actor: str
    request_key: str | None = None


@dataclass(frozen=True)
class CreditSession:
    """A charge point operator's credit for a session it sent before (a credit CDR)."""

    emp_id: UUID
    session_id: str  # the credit's own
    credited_session_id: str
    customer_id: UUID
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    credit_minor: int
    location: str | None
    actor: str


@dataclass(frozen=True)
class CreateOcpiParty:
    emp_id: UUID
    country_code: str
    party_id: str
    name: str
    markup_bp: int
    token_a_sha256: str
    actor: str


@dataclass(frozen=True)
class ConnectOcpiParty:
    """The CPO's credentials, its endpoints as read with its token; `update`: a PUT."""

    emp_id: UUID
    party: UUID
    token_c_sha256: str
    versions_url: str
    version: str
    endpoints: dict[str, str]
    roles: list[dict[str, Any]]
    actor: str
    update: bool = False


@dataclass(frozen=True)
class UnregisterOcpiParty:
    emp_id: UUID
    party: UUID
    actor: str


@dataclass(frozen=True)
class IssueToken:
    emp_id: UUID
    customer_id: UUID
    uid: str
    type: str
    contract_id: str
    visual_number: str | None
    actor: str


@dataclass(frozen=True)
class InvalidateToken:
    emp_id: UUID
    customer_id: UUID
    uid: str
    actor: str


@dataclass(frozen=True)
class ReceiveCdr:
    """A CDR as its operator pushed it, mapped (domain/ocpi.py): `cost_minor` is what the driver
    pays, or for a credit gets back, markup included."""

    emp_id: UUID
    party: UUID
    session_id: str
    body: str
    digest: str
    token_uid: str
    currency: str
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    cost_minor: int
    location: str | None
    credited_session_id: str | None  # a credit CDR's reference, as a session id
    actor: str


@dataclass(frozen=True)
class AssignCdr:
    emp_id: UUID
    cdr: UUID
    customer_id: UUID
    actor: str


@dataclass(frozen=True)
class ChangeCustomer:
    emp_id: UUID
    customer_id: UUID
    changes: dict[str, Any]  # detail -> new value (Customer.CHANGEABLE)
    actor: str


@dataclass(frozen=True)
class RecordInvoicePayment:
    emp_id: UUID
    invoice_id: UUID
    amount_minor: int
    paid_at: datetime
    reference: str
    actor: str


@dataclass(frozen=True)
class IssueCreditNote:
    emp_id: UUID
    invoice_id: UUID
    reason: str
    lines: list[dict[str, int]] | None  # {"line": position, "amount_minor"}
    actor: str
    full: bool = False  # instead of lines: all that is left uncredited


@dataclass(frozen=True)
class ErasePersonalData:
    emp_id: UUID
    customer_id: UUID
    actor: str
