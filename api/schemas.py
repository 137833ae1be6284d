"""Request and response bodies as msgspec structs: frozen, unknown fields refused."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar._openapi.schema_generation import SchemaCreator
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import HeaderParameter
from litestar.typing import FieldDefinition

from api.field_patterns import CARD_TOKEN, CODE, CURRENCY, EMAIL, HOLDER, LAST4, NO_NUL, REASON, whole
from api.idempotency import MAX_KEY_LENGTH
from api.problems import ProblemDetails
from domain.aggregates.customer import PaymentCard
from domain.money import ISO_4217, MAX_AMOUNT_MINOR
from domain.periods import known_zones
from projections.webhooks import EVENT_TYPES, EventType

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=EMAIL)]
# The enum tells OpenAPI readers which codes exist; domain.money.check_currency enforces it.
Currency = Annotated[
    str,
    msgspec.Meta(
        pattern=CURRENCY,
        extra_json_schema={"description": "an ISO 4217 code", "extra": {"enum": sorted(ISO_4217)}},
    ),
]
AmountMinor = Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT_MINOR)]
ThresholdMinor = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT_MINOR)]
ExternalRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
CardToken = Annotated[str, msgspec.Meta(pattern=CARD_TOKEN)]
Last4 = Annotated[str, msgspec.Meta(pattern=LAST4)]
Brand = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NO_NUL)]
ExpMonth = Annotated[int, msgspec.Meta(ge=1, le=12)]
ExpYear = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
AccountTypeName = Literal["prepaid", "postpaid"]
RoleName = Literal["emp", "support", "auditor"]
# Read by api/idempotency.py before the handler runs; declared on each POST for the OpenAPI document.
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="the same key and body again return the first response; another body: 409",
    ),
]


class Request(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base of every request body. Its instants are kept in UTC, so whatever offset a request
    used, the ledger records and answers `Z`."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime) and value.tzinfo is not None:
                # no UTC equivalent: left for api.strict_body to refuse with the field named
                with contextlib.suppress(OverflowError):
                    msgspec.structs.force_setattr(self, name, value.astimezone(UTC))


class AutoTopUpDefaults(Request, frozen=True, forbid_unknown_fields=True):
    threshold_minor: ThresholdMinor
    amount_minor: AmountMinor


VatRate = Annotated[int, msgspec.Meta(ge=0, le=10_000, description="VAT in basis points: 2400 = 24 %")]


TimeZoneName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=NO_NUL,
        description="an IANA time zone, e.g. Europe/Helsinki (another name: 400)",
        extra_json_schema={"enum": sorted(known_zones())},
    ),
]


class TestClockIn(Request, frozen=True, forbid_unknown_fields=True):
    now: AwareDatetime


class TestClockOut(msgspec.Struct, frozen=True):
    now: datetime


OcpiCountryCode = Annotated[
    str, msgspec.Meta(pattern=whole("[A-Za-z]{2}"), description="ISO 3166-1 alpha-2, e.g. FI")
]
OcpiPartyId = Annotated[
    str, msgspec.Meta(pattern=whole("[A-Za-z0-9]{3}"), description="3 characters, e.g. VLT")
]


class OcpiIdentity(Request, frozen=True, forbid_unknown_fields=True):
    """The EMP's identity as an OCPI eMSP."""

    country_code: OcpiCountryCode
    party_id: OcpiPartyId


Country = Annotated[str, msgspec.Meta(pattern=whole("[A-Z]{2}"), description="ISO 3166-1 alpha-2, e.g. FI")]
Line = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]


class AddressIn(Request, frozen=True, forbid_unknown_fields=True):
    line1: Line
    city: Line
    postal_code: ShortText
    country: Country
    line2: Line | None = None


class ElectronicAddress(Request, frozen=True, forbid_unknown_fields=True):
    """A Peppol endpoint: an EAS scheme code (e.g. 0216: a Finnish OVT code, 0088: a GLN) and the id in it."""

    scheme: Annotated[str, msgspec.Meta(pattern=whole("[0-9A-Z]{2,4}"))]
    id: ShortText


class SellerIn(Request, frozen=True, forbid_unknown_fields=True):
    legal_name: Name
    vat_id: ShortText
    address: AddressIn
    electronic_address: ElectronicAddress | None = None
    payment_terms_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 14
    iban: Annotated[str, msgspec.Meta(pattern=whole("[A-Z]{2}[0-9]{2}[A-Z0-9 ]{8,36}"))] | None = None


class BillingIn(Request, frozen=True, forbid_unknown_fields=True):
    address: AddressIn
    vat_id: ShortText | None = None
    buyer_reference: ShortText | None = None
    electronic_address: ElectronicAddress | None = None


InvoiceDelivery = Literal["email", "none"]
DunningDay = Annotated[int, msgspec.Meta(ge=1, le=365)]


class DunningIn(Request, frozen=True, forbid_unknown_fields=True):
    """Dunning's ladder (docs/payments.md, "Dunning"): retry days in increasing order, counted
    in local days from the due date; the day the customer is blocked; the least amount dunned."""

    # Each day from 1 to 365, in increasing order: checked by domain/dunning.py (422 naming it).
    retry_after_days: Annotated[list[int], msgspec.Meta(max_length=30)] = msgspec.field(
        default_factory=lambda: [1, 3, 7]
    )
    block_after_days: DunningDay = 14
    minimum_minor: ThresholdMinor = 500


class DunningOut(msgspec.Struct, frozen=True):
    since: datetime
    step: int
    overdue_minor: int
    blocked: bool


class EmpIn(Request, frozen=True, forbid_unknown_fields=True):
    name: Name
    currency: Currency
    auto_top_up: AutoTopUpDefaults | None = None
    vat_rate_bp: VatRate = 0
    time_zone: TimeZoneName = "UTC"
    test_clock: TestClockIn | None = None
    ocpi: OcpiIdentity | None = None


class EmpPatch(Request, frozen=True, forbid_unknown_fields=True):
    name: Name | None = None
    time_zone: TimeZoneName | None = None
    vat_rate_bp: VatRate | None = None
    auto_top_up: AutoTopUpDefaults | None = None
    ocpi: OcpiIdentity | None = None
    seller: SellerIn | None = None
    invoice_delivery: InvoiceDelivery | None = None
    dunning: DunningIn | msgspec.UnsetType | None = msgspec.UNSET  # null: dunning off


class EmpOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    currency: str
    auto_top_up: AutoTopUpDefaults
    vat_rate_bp: int = 0
    time_zone: str = "UTC"
    test_clock: TestClockOut | None = None
    ocpi: OcpiIdentity | None = None
    seller: dict[str, Any] | None = None
    invoice_delivery: str = "none"
    dunning: DunningIn | None = None

    @classmethod
    def of(cls, emp: Any) -> EmpOut:
        return cls(
            id=str(emp.id),
            name=emp.name,
            currency=emp.currency,
            auto_top_up=AutoTopUpDefaults(emp.auto_top_up_threshold_minor, emp.auto_top_up_amount_minor),
            vat_rate_bp=emp.vat_rate_bp,
            time_zone=emp.time_zone,
            test_clock=None if emp.test_clock_now is None else TestClockOut(emp.test_clock_now),
            ocpi=None
            if emp.ocpi_country_code is None
            else OcpiIdentity(emp.ocpi_country_code, emp.ocpi_party_id),
            seller=emp.seller,
            invoice_delivery=emp.invoice_delivery,
            dunning=None if emp.dunning is None else msgspec.convert(emp.dunning, DunningIn),
        )


class TestClockAdvanceIn(Request, frozen=True, forbid_unknown_fields=True):
    to: AwareDatetime
    run_jobs: bool = True


class AdvancedJobRunOut(msgspec.Struct, frozen=True):
    job: str
    as_of: datetime
    processed: int


class TestClockAdvanceOut(msgspec.Struct, frozen=True):
    now: datetime
    job_runs: list[AdvancedJobRunOut]


KeyHolder = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=HOLDER)]


class ApiKeyIn(Request, frozen=True, forbid_unknown_fields=True):
    role: RoleName
    name: KeyHolder | None = None  # who holds the key: histories name them as its actor


class ApiKeyOut(msgspec.Struct, frozen=True):
    key: str
    role: str
    emp_id: str
    id: str
    name: str | None
    created_at: datetime


class ApiKeyInfo(msgspec.Struct, frozen=True):
    """A key as listed: never the key itself."""

    id: str
    role: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ApiKeyInfo:
        return cls(**{**row, "id": str(row["id"])})


class ApiKeyPage(msgspec.Struct, frozen=True):
    items: list[ApiKeyInfo]
    next_cursor: str | None


class EmpPage(msgspec.Struct, frozen=True):
    items: list[EmpOut]
    next_cursor: str | None


class CustomerIn(Request, frozen=True, forbid_unknown_fields=True):
    name: Name
    email: Email
    account_type: AccountTypeName
    external_ref: ExternalRef | None = None


class CustomerPatch(Request, frozen=True, forbid_unknown_fields=True):
    name: Name | None = None
    email: Email | None = None
    external_ref: ExternalRef | None = None
    billing: BillingIn | None = None


class CardIn(Request, frozen=True, forbid_unknown_fields=True):
    """With Stripe only the token (pm_...): brand, last4 and expiry are read from Stripe."""

    token: CardToken
    brand: Brand | None = None
    last4: Last4 | None = None
    exp_month: ExpMonth | None = None
    exp_year: ExpYear | None = None

    def card(self) -> PaymentCard:
        """As sent; what the gateway reads of the card replaces it (commands/accounts.py)."""
        return PaymentCard(
            self.token, self.brand or "", self.last4 or "", self.exp_month or 0, self.exp_year or 0
        )


class AutoTopUpIn(Request, frozen=True, forbid_unknown_fields=True):
    enabled: bool
    threshold_minor: ThresholdMinor | None = None
    amount_minor: AmountMinor | None = None


class CardOut(msgspec.Struct, frozen=True):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class AutoTopUpOut(msgspec.Struct, frozen=True):
    enabled: bool
    threshold_minor: int
    amount_minor: int


class CustomerOut(msgspec.Struct, frozen=True):
    id: str
    name: str | None  # None once the customer's personal data is erased
    email: str | None
    account_type: str
    currency: str
    balance_minor: int
    payment_card: CardOut | None
    auto_top_up: AutoTopUpOut
    created_at: datetime
    external_ref: str | None = None
    billing: dict[str, Any] | None = None
    dunning: DunningOut | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CustomerOut:
        card = None
        if row["card_last4"] is not None:
            card = CardOut(
                brand=row["card_brand"],
                last4=row["card_last4"],
                exp_month=row["card_exp_month"],
                exp_year=row["card_exp_year"],
            )
        return cls(
            id=str(row["id"]),
            name=row["name"],
            email=row["email"],
            account_type=row["account_type"],
            currency=row["currency"].strip(),
            balance_minor=row["balance_minor"],
            payment_card=card,
            auto_top_up=AutoTopUpOut(
                enabled=row["auto_top_up_enabled"],
                threshold_minor=row["auto_top_up_threshold_minor"],
                amount_minor=row["auto_top_up_amount_minor"],
            ),
            created_at=row["created_at"],
            external_ref=row["external_ref"],
            billing=json.loads(row["billing_json"]) if row.get("billing_json") else None,
            dunning=msgspec.json.decode(row["dunning_json"], type=DunningOut)
            if row.get("dunning_json")
            else None,
        )


class CustomerPage(msgspec.Struct, frozen=True):
    items: list[CustomerOut]
    next_cursor: str | None


class BalanceOut(msgspec.Struct, frozen=True):
    balance_minor: int
    currency: str
    as_of: datetime


Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=CODE)]
PriceMinor = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT_MINOR)]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
SessionId = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
EnergyWh = Annotated[int, msgspec.Meta(ge=0, le=10**9)]
BillingDay = Annotated[int, msgspec.Meta(ge=1, le=31)]
Location = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]


class PackageIn(Request, frozen=True, forbid_unknown_fields=True):
    code: Code
    name: Name
    kind: Literal["base", "bolt_on", "top_up"]
    recurring: bool
    payment: Literal["prepaid", "postpaid", "any"]
    price_minor: PriceMinor


class PackageOut(msgspec.Struct, frozen=True):
    id: str
    code: str
    name: str
    kind: str
    recurring: bool
    payment: str
    price_minor: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PackageOut:
        return cls(**{**row, "id": str(row["id"])})


class PackagePage(msgspec.Struct, frozen=True):
    items: list[PackageOut]
    next_cursor: str | None


class SubscriptionIn(Request, frozen=True, forbid_unknown_fields=True):
    customer_id: UUID
    base_package: Code
    billing_day: BillingDay | None = None
    started_at: AwareDatetime | None = None  # default now; in the past, the jobs catch up


class SubscriptionEndIn(Request, frozen=True, forbid_unknown_fields=True):
    at: AwareDatetime | None = None  # default now


class BasePackageChangeIn(Request, frozen=True, forbid_unknown_fields=True):
    package: Code
    at: AwareDatetime | None = None  # default now


class AcquireIn(Request, frozen=True, forbid_unknown_fields=True):
    package: Code


class SubscriptionPackageOut(msgspec.Struct, frozen=True):
    id: str
    code: str
    kind: str
    recurring: bool
    acquired_at: datetime
    status: str
    payment: str
    price_minor: int
    cancelled_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SubscriptionPackageOut:
        return cls(**{**row, "id": str(row["id"])})


class SubscriptionOut(msgspec.Struct, frozen=True):
    id: str
    customer_id: str
    tariff: str
    billing_day: int
    started_at: datetime
    packages: list[SubscriptionPackageOut]
    ended_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SubscriptionOut:
        return cls(
            id=str(row["id"]),
            customer_id=str(row["customer_id"]),
            tariff=row["tariff"],
            billing_day=row["billing_day"],
            started_at=row["started_at"],
            packages=[SubscriptionPackageOut.from_row(p) for p in row["packages"]],
            ended_at=row["ended_at"],
        )


class SubscriptionPage(msgspec.Struct, frozen=True):
    items: list[SubscriptionOut]
    next_cursor: str | None = None


class SessionIn(Request, frozen=True, forbid_unknown_fields=True):
    session_id: SessionId
    customer_id: UUID
    started_at: AwareDatetime
    ended_at: AwareDatetime
    energy_wh: EnergyWh
    cost_minor: PriceMinor
    location: Location | None = None


class SessionOut(msgspec.Struct, frozen=True):
    session_id: str
    customer_id: str
    cost_minor: int
    balance_minor: int


class SessionListItem(msgspec.Struct, frozen=True):
    session_id: str
    customer_id: str
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    cost_minor: int
    currency: str
    location: str | None
    recorded_at: datetime
    invoice_id: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionListItem:
        invoice_id = row["invoice_id"]
        return cls(
            **{
                **row,
                "customer_id": str(row["customer_id"]),
                "invoice_id": None if invoice_id is None else str(invoice_id),
            }
        )


class SessionPage(msgspec.Struct, frozen=True):
    items: list[SessionListItem]
    next_cursor: str | None


MAX_BATCH_SESSIONS = 1000


class SessionBatchIn(Request, frozen=True, forbid_unknown_fields=True):
    """Up to 1000 session objects, each as the body of POST /v1/sessions; each is checked on its
    own, so a bad one is refused alone."""

    sessions: list[Any]


class SessionResultOut(msgspec.Struct, frozen=True, omit_defaults=True):
    session_id: str | None
    status: int
    balance_minor: int | None = None
    problem: ProblemDetails | None = None


class SessionBatchOut(msgspec.Struct, frozen=True):
    results: list[SessionResultOut]


class TopUpIn(Request, frozen=True, forbid_unknown_fields=True):
    amount_minor: AmountMinor


class TopUpOut(msgspec.Struct, frozen=True):
    id: str
    amount_minor: int
    balance_minor: int


class RegistrationIn(Request, frozen=True, forbid_unknown_fields=True):
    name: Name
    email: Email
    account_type: AccountTypeName
    card: CardIn | None = None
    auto_top_up: bool = False
    base_package: Code | None = None


class RegistrationOut(msgspec.Struct, frozen=True):
    customer: CustomerOut
    subscription: SubscriptionOut | None


class AuthorizationOut(msgspec.Struct, frozen=True):
    allowed: Literal["ALLOWED", "NO_CREDIT", "BLOCKED"]


class TransactionOut(msgspec.Struct, frozen=True):
    id: str
    type: str
    amount_minor: int
    balance_after_minor: int
    occurred_at: datetime
    recorded_at: datetime
    reference: str | None
    sequence: int
    description: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TransactionOut:
        return cls(**{**row, "id": str(row["id"])})


class TransactionPage(msgspec.Struct, frozen=True):
    items: list[TransactionOut]
    next_cursor: str | None


JobName = Literal["recurring-prepayment", "recurring-payment", "invoice-production"]


class JobRunIn(Request, frozen=True, forbid_unknown_fields=True):
    as_of: AwareDatetime
    emp_id: UUID | None = None  # only this EMP, its as_of checked against its own now


class JobRunOut(msgspec.Struct, frozen=True):
    job: str
    as_of: datetime
    processed: int
    failures: int
    run_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str = "finished"
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    triggered_by: str | None = None
    emp_id: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JobRunOut:
        return cls(
            job=row["job"],
            as_of=row["as_of"],
            processed=row["processed"],
            failures=row["failures"],
            run_id=str(row["id"]),
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            status=row["status"],
            details=row["details"],
            triggered_by=row["triggered_by"],
            emp_id=None if row.get("emp_id") is None else str(row["emp_id"]),
        )


class JobRunPage(msgspec.Struct, frozen=True):
    items: list[JobRunOut]
    next_cursor: str | None


class InvoiceLineOut(msgspec.Struct, frozen=True):
    position: int
    vat_rate_bp: int
    description: str
    kind: str
    amount_minor: int
    net_minor: int
    vat_minor: int
    gross_minor: int
    reference: str | None = None
    days: int | None = None
    ended_at: str | None = None


class InvoiceOut(msgspec.Struct, frozen=True):
    id: str
    number: str
    sequence: int
    customer_id: str
    subscription_id: str
    period_start: datetime
    period_end: datetime
    currency: str
    lines: list[InvoiceLineOut]
    total_minor: int
    net_minor: int
    vat_minor: int
    vat_rate_bp: int
    issued_at: datetime
    status: str
    due_at: datetime | None
    amount_paid_minor: int
    credited_minor: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> InvoiceOut:
        return cls(
            id=str(row["id"]),
            number=row["number"],
            sequence=row["sequence"],
            customer_id=str(row["customer_id"]),
            subscription_id=str(row["subscription_id"]),
            period_start=row["period_start"],
            period_end=row["period_end"],
            currency=row["currency"].strip(),
            lines=[msgspec.convert(line, InvoiceLineOut) for line in row["lines"]],
            total_minor=row["total_minor"],
            net_minor=row["net_minor"],
            vat_minor=row["vat_minor"],
            vat_rate_bp=row["vat_rate_bp"],
            issued_at=row["issued_at"],
            status=row["status"],
            due_at=row["due_at"],
            amount_paid_minor=row["amount_paid_minor"],
            credited_minor=row["credited_minor"],
        )


class InvoicePage(msgspec.Struct, frozen=True):
    items: list[InvoiceOut]
    next_cursor: str | None


class InvoicePaymentIn(Request, frozen=True, forbid_unknown_fields=True):
    amount_minor: AmountMinor
    paid_at: AwareDatetime
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]


class InvoicePaymentOut(msgspec.Struct, frozen=True):
    id: str
    invoice_id: str
    amount_minor: int
    paid_at: datetime
    reference: str


class CreditLineIn(Request, frozen=True, forbid_unknown_fields=True):
    line: Annotated[int, msgspec.Meta(ge=1, le=100_000, description="the invoice line's position")]
    amount_minor: AmountMinor


class CreditNoteIn(Request, frozen=True, forbid_unknown_fields=True):
    """Either `lines` or `"full": true` (all that is left uncredited)."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"^[^\x00]*\S[^\x00]*$")]
    lines: Annotated[list[CreditLineIn], msgspec.Meta(min_length=1, max_length=1000)] | None = None
    full: bool | None = None


class CreditNoteLineOut(msgspec.Struct, frozen=True):
    line: int
    description: str
    amount_minor: int
    net_minor: int
    vat_minor: int
    vat_rate_bp: int


class CreditNoteOut(msgspec.Struct, frozen=True):
    id: str
    number: str
    sequence: int
    invoice_id: str
    invoice_number: str
    customer_id: str
    currency: str
    reason: str
    lines: list[CreditNoteLineOut]
    net_minor: int
    vat_minor: int
    total_minor: int
    issued_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CreditNoteOut:
        return cls(
            id=str(row["id"]),
            number=row["number"],
            sequence=row["sequence"],
            invoice_id=str(row["invoice_id"]),
            invoice_number=row["invoice_number"],
            customer_id=str(row["customer_id"]),
            currency=row["currency"].strip(),
            reason=row["reason"],
            lines=[msgspec.convert(line, CreditNoteLineOut) for line in row["lines"]],
            net_minor=row["net_minor"],
            vat_minor=row["vat_minor"],
            total_minor=row["total_minor"],
            issued_at=row["issued_at"],
        )


class CreditNotePage(msgspec.Struct, frozen=True):
    items: list[CreditNoteOut]
    next_cursor: str | None


# Something besides whitespace, as `str.strip` sees it (the explicit class keeps ECMA's `\s` in line).


class AdjustmentIn(Request, frozen=True, forbid_unknown_fields=True):
    amount_minor: Annotated[
        int,
        msgspec.Meta(
            ge=-MAX_AMOUNT_MINOR,
            le=MAX_AMOUNT_MINOR,
            extra_json_schema={"description": "signed, not 0", "extra": {"not": {"const": 0}}},
        ),
    ]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=REASON)]


class AdjustmentOut(msgspec.Struct, frozen=True):
    id: str
    customer_id: str
    amount_minor: int
    reason: str
    balance_minor: int
    sequence: int
    recorded_by: str


class EventOut(msgspec.Struct, frozen=True):
    sequence: int
    type: str
    recorded_at: datetime
    data: dict[str, Any]


class EventPage(msgspec.Struct, frozen=True):
    items: list[EventOut]
    next_cursor: str | None


class ExplanationLineOut(msgspec.Struct, frozen=True):
    sequence: int
    type: str
    recorded_at: datetime
    occurred_at: datetime
    delta_minor: int
    balance_after_minor: int
    reference: str | None
    description: str
    caused_by: str
    cause: dict[str, Any]


class ExplanationOut(msgspec.Struct, frozen=True):
    balance_minor: int
    currency: str
    as_of: datetime
    lines: list[ExplanationLineOut]


class VerificationProblemOut(msgspec.Struct, frozen=True):
    stream: str
    kind: str
    detail: str
    version: int | None = None


class VerificationOut(msgspec.Struct, frozen=True):
    ok: bool
    streams_checked: int
    events_checked: int
    problems: list[VerificationProblemOut]


# msgspec bound -> OpenAPI keyword, for the bounds Litestar drops from optional fields when 0.
ZERO_BOUNDS = {"ge": "minimum", "gt": "exclusive_minimum", "le": "maximum", "lt": "exclusive_maximum"}


# --- webhooks and the event feed ---------------------------------------------------------

WebhookUrl = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=2000,
        pattern=NO_NUL,
        description="https:// to a public address, no credentials (checked once the name is resolved)",
    ),
]

EventTypeNames = Annotated[list[EventType], msgspec.Meta(min_length=1, description="default: every type")]
Description = Annotated[str, msgspec.Meta(max_length=500, pattern=NO_NUL)]


class WebhookEndpointIn(Request, frozen=True, forbid_unknown_fields=True):
    url: WebhookUrl
    event_types: EventTypeNames | None = None
    description: Description | None = None


class WebhookEndpointPatch(Request, frozen=True, forbid_unknown_fields=True):
    url: WebhookUrl | None = None
    event_types: EventTypeNames | None = None
    enabled: bool | None = None
    description: Description | None = None


class WebhookEndpointOut(msgspec.Struct, frozen=True):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebhookEndpointOut:
        return cls(
            id=str(row["id"]),
            url=row["url"],
            event_types=list(row["event_types"]) if row["event_types"] is not None else list(EVENT_TYPES),
            description=row["description"],
            enabled=row["enabled"],
            created_at=row["created_at"],
        )


class WebhookEndpointCreated(msgspec.Struct, frozen=True):
    """The endpoint, with its secret: shown here and on rotation only."""

    id: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    secret: str
    created_at: datetime


class WebhookEndpointPage(msgspec.Struct, frozen=True):
    items: list[WebhookEndpointOut]
    next_cursor: str | None


class WebhookSecretOut(msgspec.Struct, frozen=True):
    secret: str


class WebhookMessageOut(msgspec.Struct, frozen=True):
    id: str
    type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebhookMessageOut:
        return cls(
            id=str(row["message_id"]),
            type=row["type"],
            state=row["state"],
            attempts=row["attempts"],
            last_status_code=row["last_status_code"],
            next_attempt_at=row["next_attempt_at"] if row["state"] == "pending" else None,
            created_at=row["created_at"],
        )


class WebhookMessagePage(msgspec.Struct, frozen=True):
    items: list[WebhookMessageOut]
    next_cursor: str | None


class FeedEventOut(msgspec.Struct, frozen=True):
    id: str
    type: str
    timestamp: str
    data: dict[str, Any]


class FeedPage(msgspec.Struct, frozen=True):
    items: list[FeedEventOut]
    next_cursor: str


MarkupBp = Annotated[
    int, msgspec.Meta(ge=0, le=10_000, description="the EMP's markup on this operator's CDRs: 500 = 5 %")
]
TokenUid = Annotated[str, msgspec.Meta(min_length=1, max_length=36, pattern=whole(r"[\x21-\x7e]+"))]
ContractId = Annotated[str, msgspec.Meta(min_length=1, max_length=36, pattern=whole(r"[\x20-\x7e]+"))]
VisualNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=whole(r"[^\x00-\x1f\x7f]+"))]


class OcpiPartyIn(Request, frozen=True, forbid_unknown_fields=True):
    country_code: OcpiCountryCode
    party_id: OcpiPartyId
    name: Name
    markup_bp: MarkupBp = 0


class OcpiPartyOut(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    country_code: str
    party_id: str
    name: str
    markup_bp: int
    versions_url: str
    status: Literal["pending", "connected", "unregistered"]
    created_at: datetime
    token_a: str | None = None  # answered only when the party is created


class OcpiPartyPage(msgspec.Struct, frozen=True):
    items: list[OcpiPartyOut]


class CustomerTokenIn(Request, frozen=True, forbid_unknown_fields=True):
    uid: TokenUid
    type: Literal["RFID", "APP_USER", "AD_HOC_USER", "OTHER"]
    contract_id: ContractId
    visual_number: VisualNumber | None = None


class CustomerTokenOut(msgspec.Struct, frozen=True):
    uid: str
    type: str
    contract_id: str
    visual_number: str | None
    valid: bool
    customer_id: str
    last_updated: datetime


class UnmatchedCdrOut(msgspec.Struct, frozen=True):
    id: str
    session_id: str
    country_code: str
    party_id: str
    party_name: str
    token_uid: str
    cost_minor: int
    currency: str
    received_at: datetime


class UnmatchedCdrPage(msgspec.Struct, frozen=True):
    items: list[UnmatchedCdrOut]
    next_cursor: str | None


class AssignCdrIn(Request, frozen=True, forbid_unknown_fields=True):
    customer_id: UUID


class AssignedCdrOut(msgspec.Struct, frozen=True):
    id: str
    session_id: str
    customer_id: str
    cost_minor: int


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Documents a request struct as strictly as it is decoded: Litestar leaves out its
    `forbid_unknown_fields` (an unknown field is a 400), a field's `enum` (the time zones),
    decimals as numbers and, on an optional field, a bound of 0 (`threshold_minor >= 0`)."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        struct_type = field_definition.type_
        if struct_type.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        info = msgspec.inspect.type_info(struct_type)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            documented = (schema.properties or {}).get(field.encode_name)
            if not isinstance(documented, Schema):
                continue
            _decimals_as_numbers(field, documented)
            optional = isinstance(field.type, msgspec.inspect.UnionType)
            types = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
            for metadata in (t for t in types if isinstance(t, msgspec.inspect.Metadata)):
                extra = metadata.extra_json_schema or {}
                if "enum" in extra:  # Litestar leaves a Meta's enum out
                    documented.enum = [*extra["enum"], *([None] if optional else [])]
            types = tuple(t.type if isinstance(t, msgspec.inspect.Metadata) else t for t in types)
            constrained = next((t for t in types if isinstance(t, msgspec.inspect.IntType)), None)
            if not optional or constrained is None:
                continue
            for bound, keyword in ZERO_BOUNDS.items():
                if getattr(constrained, bound) == 0 and getattr(documented, keyword) is None:
                    setattr(documented, keyword, 0)
        return schema


def _decimals_as_numbers(field: msgspec.inspect.Field, documented: Any) -> None:
    """A Decimal field is a JSON number (decoded exactly; OCPI's amounts), not Litestar's string."""
    kinds = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
    if not isinstance(documented, Schema) or not any(
        isinstance(k, msgspec.inspect.DecimalType) for k in kinds
    ):
        return
    for part in [documented, *(documented.one_of or [])]:
        if isinstance(part, Schema) and part.type == OpenAPIType.STRING:
            part.type = OpenAPIType.NUMBER
