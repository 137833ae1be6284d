"""A customer of an EMP: account type, payment card, automatic top-up consent, balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import CardRequired, TopUpNotApplicable
from domain.money import check_amount


class AccountType(StrEnum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"


@dataclass(frozen=True)
class PaymentCard:
    """A card as the gateway knows it: a token and display data, never the card number."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


CUSTOMER_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/customers")


class Customer(Aggregate):
    TOPIC = "chargeledger:Customer"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:Customer.Event"
        occurred_at: datetime
        caused_by: str

    class Registered(Aggregate.Created):
        TOPIC = "chargeledger:Customer.Registered"
        emp_id: UUID
        name: str
        email: str
        account_type: str
        currency: str
        external_ref: str | None
        auto_top_up_threshold_minor: int
        auto_top_up_amount_minor: int
        occurred_at: datetime
        caused_by: str

    class PaymentCardStored(Event):
        TOPIC = "chargeledger:Customer.PaymentCardStored"
        token: str
        brand: str
        last4: str
        exp_month: int
        exp_year: int

        def apply(self, aggregate: Any) -> None:
            aggregate.payment_card = PaymentCard(
                self.token, self.brand, self.last4, self.exp_month, self.exp_year
            )

    class PaymentCardRemoved(Event):
        TOPIC = "chargeledger:Customer.PaymentCardRemoved"

        def apply(self, aggregate: Any) -> None:
            aggregate.payment_card = None

    class AutoTopUpConsentGiven(Event):
        TOPIC = "chargeledger:Customer.AutoTopUpConsentGiven"
        threshold_minor: int
        amount_minor: int

        def apply(self, aggregate: Any) -> None:
            aggregate.auto_top_up_enabled = True
            aggregate.auto_top_up_threshold_minor = self.threshold_minor
            aggregate.auto_top_up_amount_minor = self.amount_minor

    class AutoTopUpConsentWithdrawn(Event):
        TOPIC = "chargeledger:Customer.AutoTopUpConsentWithdrawn"
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.auto_top_up_enabled = False

    @staticmethod
    def create_id(emp_id: UUID, external_ref: str | None) -> UUID:
        # A customer with an external reference gets a deterministic id: a repeat collides.
        if external_ref is None:
            return uuid4()
        return uuid5(CUSTOMER_NAMESPACE, f"{emp_id}:{external_ref}")

    @event(Registered)
    def __init__(
        self,
        emp_id: UUID,
        name: str,
        email: str,
        account_type: str,
        currency: str,
        external_ref: str | None,
        auto_top_up_threshold_minor: int,
        auto_top_up_amount_minor: int,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.emp_id = emp_id
        self.name = name
        self.email = email
        self.account_type = AccountType(account_type)
        self.currency = currency
        self.external_ref = external_ref
        self.payment_card: PaymentCard | None = None
        self.auto_top_up_enabled = False
        self.auto_top_up_threshold_minor = auto_top_up_threshold_minor
        self.auto_top_up_amount_minor = auto_top_up_amount_minor
        self.balance_minor = 0

    def store_payment_card(
        self, card: PaymentCard, *, occurred_at: datetime, caused_by: str
    ) -> None:
        self.trigger_event(
            self.PaymentCardStored,
            token=card.token,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def remove_payment_card(self, *, occurred_at: datetime, caused_by: str) -> None:
        if self.payment_card is None:
            return
        if self.auto_top_up_enabled:
            # Without a card there is nothing to top up from: consent lapses with the card.
            self.withdraw_auto_top_up_consent(
                reason="payment card removed", occurred_at=occurred_at, caused_by=caused_by
            )
        self.trigger_event(self.PaymentCardRemoved, occurred_at=occurred_at, caused_by=caused_by)

    def give_auto_top_up_consent(
        self,
        *,
        threshold_minor: int | None,
        amount_minor: int | None,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.check_prepaid()
        if self.payment_card is None:
            raise CardRequired("automatic top-up needs a stored payment card")
        threshold = self.auto_top_up_threshold_minor if threshold_minor is None else threshold_minor
        amount = self.auto_top_up_amount_minor if amount_minor is None else amount_minor
        check_amount(threshold, "threshold_minor", allow_zero=True)
        check_amount(amount, "amount_minor")
        self.trigger_event(
            self.AutoTopUpConsentGiven,
            threshold_minor=threshold,
            amount_minor=amount,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def withdraw_auto_top_up_consent(
        self, *, reason: str, occurred_at: datetime, caused_by: str
    ) -> None:
        if not self.auto_top_up_enabled:
            return
        self.trigger_event(
            self.AutoTopUpConsentWithdrawn,
            reason=reason,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def check_prepaid(self) -> None:
        if self.account_type is not AccountType.PREPAID:
            raise TopUpNotApplicable("top-ups apply to prepaid accounts only; this one is postpaid")
