"""An e-mobility provider: the tenant that owns customers, packages and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import ValidationFailed
from domain.money import check_amount, check_currency

DEFAULT_AUTO_TOP_UP_THRESHOLD_MINOR = 1000
DEFAULT_AUTO_TOP_UP_AMOUNT_MINOR = 3000


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
        occurred_at: datetime,
        caused_by: str,
    ) -> Emp:
        check_currency(currency)
        check_amount(auto_top_up_threshold_minor, "auto_top_up.threshold_minor", allow_zero=True)
        check_amount(auto_top_up_amount_minor, "auto_top_up.amount_minor")
        if not 0 <= vat_rate_bp <= 10_000:
            raise ValidationFailed("vat_rate_bp must be from 0 to 10000", field="vat_rate_bp")
        return cls(
            name=name,
            currency=currency,
            auto_top_up_threshold_minor=auto_top_up_threshold_minor,
            auto_top_up_amount_minor=auto_top_up_amount_minor,
            occurred_at=occurred_at,
            caused_by=caused_by,
            vat_rate_bp=vat_rate_bp,
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
    ) -> None:
        self.name = name
        self.currency = currency
        self.auto_top_up_threshold_minor = auto_top_up_threshold_minor
        self.auto_top_up_amount_minor = auto_top_up_amount_minor
        # VAT in basis points (2400 = 24 %): catalog and session amounts are gross.
        self.vat_rate_bp = vat_rate_bp
