"""An e-mobility provider: the tenant that owns customers, packages and keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from domain.dunning import DEFAULT_DUNNING, check_dunning
from domain.errors import InvalidPeriod, ValidationFailed
from domain.money import check_amount, check_currency
from domain.periods import DEFAULT_TIME_ZONE, zone_of

DEFAULT_AUTO_TOP_UP_THRESHOLD_MINOR = 1000
DEFAULT_AUTO_TOP_UP_AMOUNT_MINOR = 3000
# Each move runs every night's jobs on the way: a move of years is refused, not run for hours.
MAX_TEST_CLOCK_MOVE = timedelta(days=400)
DEFAULT_PAYMENT_TERMS_DAYS = 14
INVOICE_DELIVERIES = ("none", "email")


class Emp(Aggregate):
    TOPIC = "chargeledger:Emp"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:Emp.Event"
        occurred_at: datetime
        caused_by: str

    class Registered(Aggregate.Created):
        TOPIC = "chargeledger:Emp.Registered"
        name: str
        currency: str
        auto_top_up_threshold_minor: int
        auto_top_up_amount_minor: int
        occurred_at: datetime
        caused_by: str
        vat_rate_bp: int = 0
        time_zone: str = DEFAULT_TIME_ZONE
        test_clock_now: datetime | None = None  # an EMP on a test clock: its business "now"
        # Its OCPI identity as an eMSP (ISO 3166-1 alpha-2 country, 3-character party id).
        ocpi_country_code: str | None = None
        ocpi_party_id: str | None = None

    class Changed(Event):
        """Settings changed (only those named; a new time zone applies from each
        subscription's next period, a new VAT rate to invoices issued after it)."""

        TOPIC = "chargeledger:Emp.Changed"
        changes: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            for name, value in self.changes.items():
                setattr(aggregate, name, value)

    class TestClockAdvanced(Event):
        TOPIC = "chargeledger:Emp.TestClockAdvanced"
        now: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.test_clock_now = self.now

    # Settings added after EMPs existed: an EMP registered before has these until changed.
    seller: dict[str, Any] | None = None  # its legal details on invoices (api-contract: "seller")
    invoice_delivery = "none"  # "email": each invoice and credit note is mailed to the customer
    dunning = DEFAULT_DUNNING  # domain/dunning.py (None: off), never changed in place

    CHANGEABLE = (
        "name",
        "time_zone",
        "vat_rate_bp",
        "auto_top_up_threshold_minor",
        "auto_top_up_amount_minor",
        "ocpi_country_code",
        "ocpi_party_id",
        "seller",
        "invoice_delivery",
        "dunning",
    )

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return uuid4()

    @classmethod
    def register(
        cls,
        *,
        name: str,
        currency: str,
        auto_top_up_threshold_minor: int = DEFAULT_AUTO_TOP_UP_THRESHOLD_MINOR,
        auto_top_up_amount_minor: int = DEFAULT_AUTO_TOP_UP_AMOUNT_MINOR,
        vat_rate_bp: int = 0,
        time_zone: str = DEFAULT_TIME_ZONE,
        test_clock_now: datetime | None = None,
        ocpi_country_code: str | None = None,
        ocpi_party_id: str | None = None,
        occurred_at: datetime,
        caused_by: str,
    ) -> Emp:
        check_currency(currency)
        _check_settings(
            {
                "auto_top_up_threshold_minor": auto_top_up_threshold_minor,
                "auto_top_up_amount_minor": auto_top_up_amount_minor,
                "vat_rate_bp": vat_rate_bp,
                "time_zone": time_zone,
                "ocpi_country_code": ocpi_country_code,
                "ocpi_party_id": ocpi_party_id,
            }
        )
        return cls(
            name=name,
            currency=currency,
            auto_top_up_threshold_minor=auto_top_up_threshold_minor,
            auto_top_up_amount_minor=auto_top_up_amount_minor,
            occurred_at=occurred_at,
            caused_by=caused_by,
            vat_rate_bp=vat_rate_bp,
            time_zone=time_zone,
            test_clock_now=test_clock_now,
            ocpi_country_code=ocpi_country_code,
            ocpi_party_id=ocpi_party_id,
        )

    @event(Registered)
    def __init__(
        self,
        name: str,
        currency: str,
        auto_top_up_threshold_minor: int,
        auto_top_up_amount_minor: int,
        occurred_at: datetime,
        caused_by: str,
        vat_rate_bp: int = 0,
        time_zone: str = DEFAULT_TIME_ZONE,
        test_clock_now: datetime | None = None,
        ocpi_country_code: str | None = None,
        ocpi_party_id: str | None = None,
    ) -> None:
        self.name = name
        self.currency = currency
        self.auto_top_up_threshold_minor = auto_top_up_threshold_minor
        self.auto_top_up_amount_minor = auto_top_up_amount_minor
        # VAT in basis points (2400 = 24 %): catalog and session amounts are gross.
        self.vat_rate_bp = vat_rate_bp
        self.time_zone = time_zone
        self.test_clock_now = test_clock_now
        self.ocpi_country_code = ocpi_country_code
        self.ocpi_party_id = ocpi_party_id

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.time_zone)

    @property
    def payment_terms_days(self) -> int:
        return int((self.seller or {}).get("payment_terms_days", DEFAULT_PAYMENT_TERMS_DAYS))

    def change(self, changes: dict[str, Any], *, occurred_at: datetime, caused_by: str) -> None:
        """Record the settings that differ from the current ones (nothing if none does)."""
        unknown = set(changes) - set(self.CHANGEABLE)
        if unknown:
            raise ValueError(f"not changeable: {sorted(unknown)}")
        _check_settings(changes)
        changed = {name: value for name, value in changes.items() if getattr(self, name, None) != value}
        if changed:
            self.trigger_event(self.Changed, changes=changed, occurred_at=occurred_at, caused_by=caused_by)

    def advance_test_clock(self, to: datetime, *, occurred_at: datetime, caused_by: str) -> None:
        """Move the test clock forward to `to` (the same instant: nothing happens)."""
        if self.test_clock_now is None:
            raise ValidationFailed("this EMP has no test clock: it runs on the real clock", field="to")
        if to < self.test_clock_now:
            raise InvalidPeriod(
                f"to: a test clock only moves forward (it is at {self.test_clock_now.isoformat()})",
                field="to",
            )
        if to - self.test_clock_now > MAX_TEST_CLOCK_MOVE:
            raise InvalidPeriod(
                f"to: a test clock moves at most {MAX_TEST_CLOCK_MOVE.days} days at a time, running the"
                " jobs of every night on the way; move it in steps",
                field="to",
            )
        if to > self.test_clock_now:
            self.trigger_event(self.TestClockAdvanced, now=to, occurred_at=occurred_at, caused_by=caused_by)


def _check_settings(settings: dict[str, Any]) -> None:
    if "auto_top_up_threshold_minor" in settings:
        check_amount(settings["auto_top_up_threshold_minor"], "auto_top_up.threshold_minor", allow_zero=True)
    if "auto_top_up_amount_minor" in settings:
        check_amount(settings["auto_top_up_amount_minor"], "auto_top_up.amount_minor")
    if "vat_rate_bp" in settings and not 0 <= settings["vat_rate_bp"] <= 10_000:
        raise ValidationFailed("vat_rate_bp must be from 0 to 10000", field="vat_rate_bp")
    if "time_zone" in settings:
        zone_of(settings["time_zone"])
    country, party = settings.get("ocpi_country_code"), settings.get("ocpi_party_id")
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise ValidationFailed(
            "ocpi.country_code must be an ISO 3166-1 alpha-2 code", field="ocpi.country_code"
        )
    if party is not None and not (len(party) == 3 and party.isascii() and party.isalnum()):
        raise ValidationFailed("ocpi.party_id must be 3 letters or digits", field="ocpi.party_id")
    if "invoice_delivery" in settings and settings["invoice_delivery"] not in INVOICE_DELIVERIES:
        raise ValidationFailed("invoice_delivery must be email or none", field="invoice_delivery")
    if "dunning" in settings:
        check_dunning(settings["dunning"])
    seller = settings.get("seller")
    if seller is not None:
        check_country(seller.get("address", {}).get("country", ""), "seller.address.country")
        if not 0 <= seller.get("payment_terms_days", DEFAULT_PAYMENT_TERMS_DAYS) <= 365:
            raise ValidationFailed(
                "seller.payment_terms_days must be from 0 to 365", field="seller.payment_terms_days"
            )


def check_country(code: str, field: str) -> None:
    if not (len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()):
        raise ValidationFailed(f"{field} must be an ISO 3166-1 alpha-2 code (upper case)", field=field)
