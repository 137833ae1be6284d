"""A customer of an EMP: account type, payment card, automatic top-up, and the balance.

The balance moves only by events that carry their signed `amount_minor` and the
`balance_after_minor` they leave; nothing edits it in place. Each such event says once what it
is called in the transactions list, what it refers to and how it reads (`kind`, `reference`,
`description`): transactions, explanations, verification and exports all use those.
"""

from __future__ import annotations

from copy import copy
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from domain.dunning import HARD_DECLINES, DunningState, Overdue, Rung, dunning_since
from domain.energy import kwh
from domain.errors import CardRequired, InsufficientBalance, NotFound, TopUpNotApplicable, ValidationFailed
from domain.money import check_amount
from domain.packages import PackageTerms
from domain.payments import (
    AutomaticTopUpCharge,
    Charge,
    DebitCharge,
    PendingPayment,
    PurchaseCharge,
    TopUpCharge,
    UnpaidDebit,
)

PREPAID = "prepaid"
POSTPAID = "postpaid"
# After a declined automatic top-up, no new attempt for this long (seed 000: mail, not spam).
AUTO_TOP_UP_DECLINE_PAUSE = timedelta(hours=24)
CUSTOMER_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/customers")
# How a free package's debit is settled: nothing is owed.
FREE = "free"
TOP_UP_SOURCES = {"manual": "Manual top-up", "automatic": "Automatic top-up", "package": "Top-up package"}


class AccountType:
    PREPAID = PREPAID
    POSTPAID = POSTPAID
    ALL = (PREPAID, POSTPAID)


@dataclass(frozen=True)
class PaymentCard:
    """A card as the gateway knows it: a token and display data, never the card number."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class Customer(Aggregate):
    TOPIC = "chargeledger:Customer"
    # Details added after customers existed: one registered before has none until changed.
    billing: dict[str, Any] | None = None
    personal_data_erased = False
    CHANGEABLE = ("name", "email", "external_ref", "billing")
    # Since dunning: its state (None: not in dunning), and whether the card's last decline was hard.
    dunning: DunningState | None = None
    last_decline_hard = False
    class_version = 2  # of its snapshots

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot taken before postpaid adjustments went on invoices has none open."""
        state.setdefault("uninvoiced_adjustments", {})

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:Customer.Event"
        occurred_at: datetime
        caused_by: str

    class BalanceMoved(Event):
        """Base of every event that moves the balance."""

        TOPIC = "chargeledger:Customer.BalanceMoved"
        kind = "adjustment"  # its type in the transactions list
        amount_minor: int
        balance_after_minor: int

        def apply(self, aggregate: Any) -> None:
            aggregate.balance_minor = self.balance_after_minor

        def reference(self) -> str | None:
            """What the movement refers to: a session, a payment, a package, an adjustment."""
            return None

        def description(self) -> str:
            return self.kind

    class Registered(Aggregate.Created):
        TOPIC = "chargeledger:Customer.Registered"
        PERSONAL = ("name", "email")  # sealed with the customer's key (commands/personal_data.py)
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
        PERSONAL = ("brand", "last4", "exp_month", "exp_year")
        token: str
        brand: str
        last4: str
        exp_month: int
        exp_year: int

        def apply(self, aggregate: Any) -> None:
            aggregate.card = PaymentCard(self.token, self.brand, self.last4, self.exp_month, self.exp_year)
            aggregate.last_decline_hard = False

    class PaymentCardRemoved(Event):
        TOPIC = "chargeledger:Customer.PaymentCardRemoved"

        def apply(self, aggregate: Any) -> None:
            aggregate.card = None

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

    class SessionCharged(BalanceMoved):
        TOPIC = "chargeledger:Customer.SessionCharged"
        kind = "session"
        session_id: str
        started_at: datetime
        ended_at: datetime
        energy_wh: int
        location: str | None

        def reference(self) -> str | None:
            return self.session_id

        def description(self) -> str:
            return f"Charging session {self.session_id}, {kwh(self.energy_wh)} kWh"

    class SessionCredited(SessionCharged):
        """A charge point operator's credit CDR: the credited session's cost (or less) back to
        the customer who paid it, as a session of its own with a negative cost (history is
        never edited). Its `energy_wh` is the credited energy, negative."""

        TOPIC = "chargeledger:Customer.SessionCredited"
        kind = "session_credit"
        credited_session_id: str

        def description(self) -> str:
            return f"Credit of charging session {self.credited_session_id} ({self.session_id})"

    class SessionsInvoiced(Event):
        """Postpaid sessions (and adjustments) landed on an invoice (each on exactly one)."""

        TOPIC = "chargeledger:Customer.SessionsInvoiced"
        invoice_id: UUID
        session_ids: list[str]
        adjustment_ids: list[str] | None = None

        def apply(self, aggregate: Any) -> None:
            for adjustment_id in self.adjustment_ids or ():
                aggregate.uninvoiced_adjustments.pop(adjustment_id, None)

    class DetailsChanged(Event):
        """Name, email, external reference or billing details changed (only those named; the
        history keeps the old values, an issued invoice the ones it was issued with)."""

        TOPIC = "chargeledger:Customer.DetailsChanged"
        PERSONAL = ("changes.name", "changes.email", "changes.billing")
        changes: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            for name, value in self.changes.items():
                setattr(aggregate, name, value)

    class InvoiceCredited(BalanceMoved):
        """A credit note: what it takes back of an invoice comes back to the balance."""

        TOPIC = "chargeledger:Customer.InvoiceCredited"
        kind = "credit_note"
        credit_note_id: UUID
        credit_note_number: str
        invoice_id: UUID
        invoice_number: str

        def reference(self) -> str | None:
            return self.credit_note_number

        def description(self) -> str:
            return f"Credit note {self.credit_note_number} for invoice {self.invoice_number}"

    class CardPaymentRequested(Event):
        """The intent, recorded before the card is charged (outbox): a crash loses nothing."""

        TOPIC = "chargeledger:Customer.CardPaymentRequested"
        class_version = 2
        payment_id: UUID
        charge: Charge
        card_token: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 kept the purpose and an untyped `details` dict."""
            details = state.pop("details")
            state["card_token"] = details.get("card_token", "")
            state["charge"] = charge_of_version_1(state.pop("purpose"), state.pop("requested_minor"), details)

        def apply(self, aggregate: Any) -> None:
            aggregate.pending_payments[str(self.payment_id)] = PendingPayment(self.charge, self.card_token)
            if isinstance(self.charge, AutomaticTopUpCharge):
                aggregate.auto_top_up_in_flight = str(self.payment_id)

    class TopUpApplied(BalanceMoved):
        TOPIC = "chargeledger:Customer.TopUpApplied"
        kind = "top_up"
        payment_id: UUID
        source: str
        charge_id: str

        def reference(self) -> str | None:
            return str(self.payment_id)

        def description(self) -> str:
            return TOP_UP_SOURCES.get(self.source, "Top-up")

    class PrepaymentDebited(BalanceMoved):
        TOPIC = "chargeledger:Customer.PrepaymentDebited"
        kind = "prepayment"
        debit_id: UUID
        subscription_id: UUID
        package_instance_id: UUID
        package_code: str
        settled_by: str | None
        period_start: datetime | None = None
        period_end: datetime | None = None

        def apply(self, aggregate: Any) -> None:
            aggregate.balance_minor = self.balance_after_minor
            if self.settled_by is None:
                aggregate.unpaid_debits[str(self.debit_id)] = UnpaidDebit(
                    -self.amount_minor, self.period_start or self.occurred_at, self.package_code
                )

        def reference(self) -> str | None:
            return self.package_code

        def description(self) -> str:
            if self.period_start is None or self.period_end is None:
                return f"Package {self.package_code}"
            return f"Package {self.package_code}, {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"

    class UnusedDaysCredited(BalanceMoved):
        """A prepaid base package replaced mid-period: what was debited for the days from the
        change on comes back to the balance."""

        TOPIC = "chargeledger:Customer.UnusedDaysCredited"
        kind = "prepayment_credit"
        credit_id: UUID
        subscription_id: UUID
        package_instance_id: UUID
        package_code: str
        period_start: datetime
        period_end: datetime

        def reference(self) -> str | None:
            return self.package_code

        def description(self) -> str:
            days = f"{self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"
            return f"Package {self.package_code} replaced: unused days {days} credited"

    class DebitSettled(Event):
        """A due debit is paid: from the balance that covered it, or by the card."""

        TOPIC = "chargeledger:Customer.DebitSettled"
        debit_id: UUID
        settled_by: str
        payment_id: UUID | None

        def apply(self, aggregate: Any) -> None:
            aggregate.unpaid_debits.pop(str(self.debit_id), None)

    class PaymentTaken(BalanceMoved):
        TOPIC = "chargeledger:Customer.PaymentTaken"
        kind = "payment"
        payment_id: UUID
        charge_id: str
        debit_id: UUID | None

        def reference(self) -> str | None:
            return str(self.payment_id)

        def description(self) -> str:
            return "Card payment"

    class AdjustmentRecorded(BalanceMoved):
        """A correction: history is never edited, a compensating movement is recorded."""

        TOPIC = "chargeledger:Customer.AdjustmentRecorded"
        kind = "adjustment"
        adjustment_id: UUID
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.balance_minor = self.balance_after_minor
            aggregate.adjustments[str(self.adjustment_id)] = self.amount_minor
            if aggregate.account_type == POSTPAID:
                # Postpaid: it goes on the next invoice, with the opposite sign.
                aggregate.uninvoiced_adjustments[str(self.adjustment_id)] = {
                    "amount_minor": self.amount_minor,
                    "reason": self.reason,
                    "occurred_at": self.occurred_at,
                }

        def reference(self) -> str | None:
            return str(self.adjustment_id)

        def description(self) -> str:
            return self.reason

    class CardPaymentSettled(Event):
        """Closes a requested card payment that was approved (its effects are the events
        recorded with it)."""

        TOPIC = "chargeledger:Customer.CardPaymentSettled"
        payment_id: UUID
        charge_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.forget_payment(self.payment_id)

    class CardPaymentProcessing(Event):
        """The gateway took the charge and tells its outcome later: the payment stays in flight."""

        TOPIC = "chargeledger:Customer.CardPaymentProcessing"
        payment_id: UUID
        charge_id: str

        def apply(self, aggregate: Any) -> None:
            key = str(self.payment_id)
            pending = aggregate.pending_payments[key]
            aggregate.pending_payments[key] = replace(pending, processing_charge_id=self.charge_id)

    class PaymentFailed(Event):
        """A declined card payment: the balance does not move; the customer is told by mail."""

        TOPIC = "chargeledger:Customer.PaymentFailed"
        payment_id: UUID
        purpose: str
        attempted_minor: int
        decline_code: str
        mailed: bool = True  # False: a dunning retry, whose step's mail tells of it

        def apply(self, aggregate: Any) -> None:
            aggregate.forget_payment(self.payment_id)
            if self.purpose == AutomaticTopUpCharge.purpose:
                aggregate.last_auto_top_up_declined_at = self.occurred_at
            if self.decline_code != "no_card":
                aggregate.last_decline_hard = self.decline_code in HARD_DECLINES

    class DunningStepTaken(Event):
        """A step of the dunning ladder (domain/dunning.py): a mail, after a card retry on a
        retry day; `overdue` lists what was overdue then."""

        TOPIC = "chargeledger:Customer.DunningStepTaken"
        step: int
        day: int
        since: datetime
        overdue_minor: int
        overdue: list[dict[str, Any]]
        retried: bool
        blocked: bool  # after this step

        def apply(self, aggregate: Any) -> None:
            invoices = tuple(item["id"] for item in self.overdue if item["kind"] == "invoice")
            state = DunningState(self.since, self.step, self.overdue_minor, self.blocked, invoices, self.day)
            aggregate.dunning = state

    class CustomerBlocked(Event):
        """Dunning's last step: charge points refuse the customer (BLOCKED) until it ends."""

        TOPIC = "chargeledger:Customer.CustomerBlocked"
        overdue_minor: int

    class DunningEnded(Event):
        """Nothing is overdue any more (or less than the minimum, or dunning is off): a block is lifted."""

        TOPIC = "chargeledger:Customer.DunningEnded"
        reason: str
        unblocked: bool

        def apply(self, aggregate: Any) -> None:
            aggregate.dunning = None

    class PersonalDataErased(Event):
        """The customer's personal data was erased: its key is destroyed, so the personal fields
        of its events read as None from now on (this event carries none)."""

        TOPIC = "chargeledger:Customer.PersonalDataErased"
        ERASES_KEY = True  # a process that reads it forgets the key it may hold

        def apply(self, aggregate: Any) -> None:
            aggregate.personal_data_erased = True
            aggregate.name = aggregate.email = aggregate.billing = None
            if aggregate.card is not None:
                aggregate.card = PaymentCard(aggregate.card.token, None, None, None, None)  # type: ignore[arg-type]

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
        self.account_type = account_type
        self.currency = currency
        self.external_ref = external_ref
        self.card: PaymentCard | None = None
        self.auto_top_up_enabled = False
        self.auto_top_up_threshold_minor = auto_top_up_threshold_minor
        self.auto_top_up_amount_minor = auto_top_up_amount_minor
        self.auto_top_up_in_flight: str | None = None
        self.last_auto_top_up_declined_at: datetime | None = None
        self.balance_minor = 0
        # Only what is still open: a settled payment or debit leaves these.
        self.pending_payments: dict[str, PendingPayment] = {}
        self.unpaid_debits: dict[str, UnpaidDebit] = {}
        self.adjustments: dict[str, int] = {}
        self.uninvoiced_adjustments: dict[str, dict[str, Any]] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> Customer:
        """A copy to decide on (every command gets one): the values held are immutable but for
        these containers of immutable values, so copying them is enough."""
        copied = copy(self)
        copied._pending_events = list(self._pending_events)
        copied.pending_payments = dict(self.pending_payments)
        copied.unpaid_debits = dict(self.unpaid_debits)
        copied.adjustments = dict(self.adjustments)
        copied.uninvoiced_adjustments = dict(self.uninvoiced_adjustments)
        return copied

    def change_details(self, changes: dict[str, Any], *, occurred_at: datetime, caused_by: str) -> None:
        """Record the details that differ from the current ones (nothing if none does)."""
        unknown = set(changes) - set(self.CHANGEABLE)
        if unknown:
            raise ValueError(f"not changeable: {sorted(unknown)}")
        erased = [name for name in changes if self.personal_data_erased and name != "external_ref"]
        if erased:
            raise ValidationFailed(
                f"{erased[0]} cannot be set: this customer's personal data was erased", field=erased[0]
            )
        changed = {name: value for name, value in changes.items() if getattr(self, name, None) != value}
        if changed:
            self.trigger_event(
                self.DetailsChanged, changes=changed, occurred_at=occurred_at, caused_by=caused_by
            )

    def erase_personal_data(self, *, occurred_at: datetime, caused_by: str) -> None:
        """Once: a repeated erasure records nothing more."""
        if not self.personal_data_erased:
            self.trigger_event(self.PersonalDataErased, occurred_at=occurred_at, caused_by=caused_by)

    def credit_invoice(
        self,
        *,
        credit_note_id: UUID,
        credit_note_number: str,
        invoice_id: UUID,
        invoice_number: str,
        amount_minor: int,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self._move(
            self.InvoiceCredited,
            amount_minor,
            credit_note_id=credit_note_id,
            credit_note_number=credit_note_number,
            invoice_id=invoice_id,
            invoice_number=invoice_number,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def _move(self, event_class: Any, amount_minor: int, **fields: Any) -> None:
        """Record a balance movement: its signed amount and the balance it leaves."""
        self.trigger_event(
            event_class,
            amount_minor=amount_minor,
            balance_after_minor=self.balance_minor + amount_minor,
            **fields,
        )

    # --- card and consent -------------------------------------------------------------

    @property
    def payment_card(self) -> PaymentCard | None:
        return self.card

    def store_payment_card(self, card: PaymentCard, *, occurred_at: datetime, caused_by: str) -> None:
        self.trigger_event(
            self.PaymentCardStored, **asdict(card), occurred_at=occurred_at, caused_by=caused_by
        )

    def remove_payment_card(self, *, occurred_at: datetime, caused_by: str) -> None:
        if self.card is None:
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
        self.check_card()
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

    def withdraw_auto_top_up_consent(self, *, reason: str, occurred_at: datetime, caused_by: str) -> None:
        if not self.auto_top_up_enabled:
            return
        self.trigger_event(
            self.AutoTopUpConsentWithdrawn,
            reason=reason,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def check_prepaid(self) -> None:
        if self.account_type != PREPAID:
            raise TopUpNotApplicable("top-ups apply to prepaid accounts only; this one is postpaid")

    def check_card(self) -> None:
        if self.card is None:
            raise CardRequired("this needs a stored payment card")

    # --- the balance ------------------------------------------------------------------

    def charge_session(
        self,
        *,
        session_id: str,
        started_at: datetime,
        ended_at: datetime,
        energy_wh: int,
        cost_minor: int,
        location: str | None,
        now: datetime,
        caused_by: str,
    ) -> int:
        """Every session is recorded, whatever the balance: the energy was delivered. Returns
        the balance the session leaves."""
        self._move(
            self.SessionCharged,
            -cost_minor,
            session_id=session_id,
            started_at=started_at,
            ended_at=ended_at,
            energy_wh=energy_wh,
            location=location,
            occurred_at=ended_at,
            caused_by=caused_by,
        )
        balance_after = self.balance_minor
        self.request_auto_top_up_if_due(now=now, caused_by=caused_by)
        return balance_after

    def credit_session(
        self,
        *,
        session_id: str,
        credited_session_id: str,
        started_at: datetime,
        ended_at: datetime,
        energy_wh: int,
        credit_minor: int,
        location: str | None,
        occurred_at: datetime,
        caused_by: str,
    ) -> int:
        """A credit for a session this customer was charged; returns the balance it leaves."""
        check_amount(credit_minor, "credit_minor", allow_zero=True)
        self._move(
            self.SessionCredited,
            credit_minor,
            session_id=session_id,
            credited_session_id=credited_session_id,
            started_at=started_at,
            ended_at=ended_at,
            energy_wh=-abs(energy_wh),
            location=location,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
        return self.balance_minor

    def debit_from_balance(
        self,
        *,
        debit_id: UUID,
        subscription_id: UUID,
        package_instance_id: UUID,
        package_code: str,
        amount_minor: int,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        """A purchase paid up front from the prepaid balance."""
        self.check_prepaid()
        if self.balance_minor < amount_minor:
            raise InsufficientBalance(f"the balance ({self.balance_minor}) does not cover {amount_minor}")
        self._post_debit(
            debit_id=debit_id,
            subscription_id=subscription_id,
            package_instance_id=package_instance_id,
            package_code=package_code,
            amount_minor=amount_minor,
            settled_by="balance",
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
        self.request_auto_top_up_if_due(now=occurred_at, caused_by=caused_by)

    def _post_debit(self, *, amount_minor: int, **fields: Any) -> None:
        self._move(self.PrepaymentDebited, -amount_minor, **fields)

    def record_adjustment(
        self, adjustment_id: UUID, *, amount_minor: int, reason: str, occurred_at: datetime, caused_by: str
    ) -> None:
        if str(adjustment_id) in self.adjustments:
            return
        check_amount(amount_minor, "amount_minor", signed=True)
        if not reason.strip():
            raise ValidationFailed("reason must not be empty", field="reason")
        self._move(
            self.AdjustmentRecorded,
            amount_minor,
            adjustment_id=adjustment_id,
            reason=reason.strip(),
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    # --- card payments (outbox: intent, charge, outcome) -----------------------------

    def request_card_payment(
        self, payment_id: UUID, charge: Charge, *, occurred_at: datetime, caused_by: str
    ) -> None:
        if isinstance(charge, TopUpCharge | AutomaticTopUpCharge):
            self.check_prepaid()
        self.check_card()
        assert self.card is not None
        check_amount(charge.amount_minor, "amount_minor")
        self.trigger_event(
            self.CardPaymentRequested,
            payment_id=payment_id,
            charge=charge,
            card_token=self.card.token,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def pending_payment(self, payment_id: UUID) -> PendingPayment:
        try:
            return self.pending_payments[str(payment_id)]
        except KeyError:
            raise NotFound(f"no pending payment {payment_id}") from None

    def is_pending(self, payment_id: UUID) -> bool:
        return str(payment_id) in self.pending_payments

    def debit_payment_in_flight(self, debit_id: UUID) -> UUID | None:
        """A card payment of this debit requested and not yet answered (processing at the
        gateway, or cut off by a crash), if there is one."""
        for key, pending in self.pending_payments.items():
            if isinstance(pending.charge, DebitCharge) and pending.charge.debit_id == debit_id:
                return UUID(key)
        return None

    def forget_payment(self, payment_id: UUID) -> None:
        key = str(payment_id)
        self.pending_payments.pop(key, None)
        if self.auto_top_up_in_flight == key:
            self.auto_top_up_in_flight = None

    def settle_card_payment(
        self, payment_id: UUID, *, charge_id: str, occurred_at: datetime, caused_by: str
    ) -> None:
        """The gateway approved: post the payment's effects on the balance."""
        charge = self.pending_payment(payment_id).charge
        amount = charge.amount_minor
        when: dict[str, Any] = {"occurred_at": occurred_at, "caused_by": caused_by}
        if isinstance(charge, TopUpCharge):
            self._credit_top_up(payment_id, "manual", charge_id, amount, **when)
            self._settle_overdue_from_balance(**when)
        elif isinstance(charge, AutomaticTopUpCharge):
            self._credit_top_up(payment_id, "automatic", charge_id, amount, **when)
            self._settle_overdue_from_balance(**when)
        elif isinstance(charge, PurchaseCharge):
            # Seed 003: "immediate posting of debit (prepaid) transaction and credit (payment)".
            debit_id = uuid5(payment_id, "debit")
            self._post_debit(
                debit_id=debit_id,
                subscription_id=charge.subscription_id,
                package_instance_id=charge.package_instance_id,
                package_code=charge.terms.code,
                amount_minor=amount,
                settled_by="card",
                **when,
            )
            taken = {"payment_id": payment_id, "charge_id": charge_id, "debit_id": debit_id}
            self._move(self.PaymentTaken, amount, **taken, **when)
            if charge.terms.kind == "top_up":
                self._credit_top_up(payment_id, "package", charge_id, amount, **when)
        elif isinstance(charge, DebitCharge):
            self._move(
                self.PaymentTaken,
                amount,
                payment_id=payment_id,
                charge_id=charge_id,
                debit_id=charge.debit_id,
                **when,
            )
            if str(charge.debit_id) in self.unpaid_debits:
                settled = {"debit_id": charge.debit_id, "settled_by": "card", "payment_id": payment_id}
                self.trigger_event(self.DebitSettled, **settled, **when)
        self.trigger_event(self.CardPaymentSettled, payment_id=payment_id, charge_id=charge_id, **when)
        self.end_dunning_if_nothing_overdue(**when)

    def record_payment_processing(
        self, payment_id: UUID, *, charge_id: str, occurred_at: datetime, caused_by: str
    ) -> None:
        if self.pending_payment(payment_id).processing_charge_id is None:
            when: dict[str, Any] = {"occurred_at": occurred_at, "caused_by": caused_by}
            self.trigger_event(self.CardPaymentProcessing, payment_id=payment_id, charge_id=charge_id, **when)

    def record_payment_failure(
        self, payment_id: UUID, *, decline_code: str, occurred_at: datetime, caused_by: str
    ) -> None:
        charge = self.pending_payment(payment_id).charge
        self.trigger_event(
            self.PaymentFailed,
            payment_id=payment_id,
            purpose=charge.purpose,
            attempted_minor=charge.amount_minor,
            decline_code=decline_code,
            mailed=not (isinstance(charge, DebitCharge) and charge.dunning_retry),
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def _credit_top_up(
        self,
        payment_id: UUID,
        source: str,
        charge_id: str,
        amount: int,
        *,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self._move(
            self.TopUpApplied,
            amount,
            payment_id=payment_id,
            source=source,
            charge_id=charge_id,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    # --- recurring prepayment and payment (seed 003's batch jobs) ---------------------

    def post_recurring_debit(
        self,
        *,
        debit_id: UUID,
        subscription_id: UUID,
        package_instance_id: UUID,
        package_code: str,
        amount_minor: int,
        period_start: datetime,
        period_end: datetime,
        occurred_at: datetime,
        now: datetime,
        caused_by: str,
    ) -> None:
        """Recurring Prepayment: a debit (pre-pay) transaction, due at the period's start. A free
        package's period is posted too (its history shows it), with nothing left to pay."""
        self._post_debit(
            debit_id=debit_id,
            subscription_id=subscription_id,
            package_instance_id=package_instance_id,
            package_code=package_code,
            amount_minor=amount_minor,
            settled_by=None if amount_minor else FREE,
            period_start=period_start,
            period_end=period_end,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
        if amount_minor:
            self.request_auto_top_up_if_due(now=now, caused_by=caused_by)

    def credit_unused_days(
        self,
        *,
        credit_id: UUID,
        subscription_id: UUID,
        package_instance_id: UUID,
        package_code: str,
        amount_minor: int,
        period_start: datetime,
        period_end: datetime,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        """A replaced package's unused days back to the balance (nothing when they cost nothing)."""
        if amount_minor:
            self._move(
                self.UnusedDaysCredited,
                amount_minor,
                credit_id=credit_id,
                subscription_id=subscription_id,
                package_instance_id=package_instance_id,
                package_code=package_code,
                period_start=period_start,
                period_end=period_end,
                occurred_at=occurred_at,
                caused_by=caused_by,
            )

    def due_debits(self, as_of: datetime) -> list[tuple[UUID, UnpaidDebit]]:
        return sorted(
            ((UUID(key), debit) for key, debit in self.unpaid_debits.items() if debit.due_at <= as_of),
            key=lambda item: item[1].due_at,
        )

    def balance_covers(self, debit_id: UUID) -> bool:
        """Whether the balance covers a posted, unpaid debit: the balance as it would be
        without this debit and the unpaid ones due after it must reach the debit's amount."""
        debit = self.unpaid_debits[str(debit_id)]
        from_this_on = sum(d.amount_minor for d in self.unpaid_debits.values() if d.due_at >= debit.due_at)
        return self.balance_minor + from_this_on >= debit.amount_minor

    def settle_debit_from_balance(self, debit_id: UUID, *, occurred_at: datetime, caused_by: str) -> bool:
        """Recurring Payment, first choice: the prepaid balance, when it covers the debit."""
        if str(debit_id) not in self.unpaid_debits or not self.balance_covers(debit_id):
            return False
        self.trigger_event(
            self.DebitSettled,
            debit_id=debit_id,
            settled_by="balance",
            payment_id=None,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )
        return True

    def record_unpayable_debit(
        self, debit_id: UUID, payment_id: UUID, *, reason: str, occurred_at: datetime, caused_by: str
    ) -> None:
        """Recurring Payment could neither use the balance nor a card: a payment failure."""
        self.trigger_event(
            self.PaymentFailed,
            payment_id=payment_id,
            purpose=DebitCharge.purpose,
            attempted_minor=self.unpaid_debits[str(debit_id)].amount_minor,
            decline_code=reason,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    # --- dunning (domain/dunning.py) --------------------------------------------------

    @property
    def blocked(self) -> bool:
        return self.dunning is not None and self.dunning.blocked

    @property
    def card_retryable(self) -> bool:
        """A card is stored and its last decline was not a hard one."""
        return self.card is not None and not self.last_decline_hard

    def overdue_debits(self, as_of: datetime) -> list[Overdue]:
        return [Overdue("debit", str(key), d.amount_minor, d.due_at) for key, d in self.due_debits(as_of)]

    def take_dunning_step(
        self,
        rung: Rung,
        overdue: list[Overdue],
        *,
        day: int,
        retried: bool,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        """`day`: the day of dunning it is taken on (a step made up late is later than its rung's)."""
        since = dunning_since(self.dunning, overdue)
        total = sum(item.amount_minor for item in overdue)
        when: dict[str, Any] = {"occurred_at": occurred_at, "caused_by": caused_by}
        blocks = rung.block and not self.blocked
        self.trigger_event(
            self.DunningStepTaken,
            step=rung.step,
            day=day,
            since=since,
            overdue_minor=total,
            overdue=[{**asdict(item), "due_at": item.due_at.isoformat()} for item in overdue],
            retried=retried,
            blocked=blocks or self.blocked,
            **when,
        )
        if blocks:
            self.trigger_event(self.CustomerBlocked, overdue_minor=total, **when)

    def end_dunning(self, *, reason: str, occurred_at: datetime, caused_by: str) -> None:
        if self.dunning is None:
            return
        self.trigger_event(
            self.DunningEnded,
            reason=reason,
            unblocked=self.blocked,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def end_dunning_if_nothing_overdue(self, *, occurred_at: datetime, caused_by: str) -> None:
        """A prepaid customer's overdue debits all paid: dunning ends at once."""
        if self.dunning is not None and self.account_type == PREPAID and not self.due_debits(occurred_at):
            self.end_dunning(reason="paid", occurred_at=occurred_at, caused_by=caused_by)

    def _settle_overdue_from_balance(self, *, occurred_at: datetime, caused_by: str) -> None:
        """A top-up pays the overdue debits it covers right away, oldest first."""
        for debit_id, _ in self.due_debits(occurred_at):
            self.settle_debit_from_balance(debit_id, occurred_at=occurred_at, caused_by=caused_by)

    def record_sessions_invoiced(
        self,
        invoice_id: UUID,
        session_ids: list[str],
        *,
        occurred_at: datetime,
        caused_by: str,
        adjustment_ids: list[str] | None = None,
    ) -> None:
        if not session_ids and not adjustment_ids:
            return
        self.trigger_event(
            self.SessionsInvoiced,
            invoice_id=invoice_id,
            session_ids=session_ids,
            adjustment_ids=adjustment_ids or None,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    # --- automatic top-up (seed 000, option 1) ----------------------------------------

    def auto_top_up_due(self, now: datetime) -> bool:
        if not (self.account_type == PREPAID and self.auto_top_up_enabled and self.card):
            return False
        if self.balance_minor >= self.auto_top_up_threshold_minor:
            return False
        if self.auto_top_up_in_flight is not None:
            return False
        declined = self.last_auto_top_up_declined_at
        return declined is None or now - declined >= AUTO_TOP_UP_DECLINE_PAUSE

    def request_auto_top_up_if_due(self, *, now: datetime, caused_by: str) -> UUID | None:
        """After a debit: one automatic top-up when the balance fell below the threshold."""
        if not self.auto_top_up_due(now):
            return None
        payment_id = uuid5(self.id, f"automatic-top-up:{self.version + 1}")
        charge = AutomaticTopUpCharge(
            amount_minor=self.auto_top_up_amount_minor,
            threshold_minor=self.auto_top_up_threshold_minor,
            balance_at_trigger_minor=self.balance_minor,
            trigger_sequence=self.version,
        )
        self.request_card_payment(payment_id, charge, occurred_at=now, caused_by=caused_by)
        return payment_id


def charge_of_version_1(purpose: str, amount_minor: int, details: dict[str, Any]) -> Charge:
    """The typed charge of a payment requested before charges were typed."""
    if purpose == AutomaticTopUpCharge.purpose:
        return AutomaticTopUpCharge(
            amount_minor,
            details.get("threshold_minor", 0),
            details.get("balance_at_trigger_minor", 0),
            details.get("trigger_sequence", 0),
        )
    if purpose == PurchaseCharge.purpose:
        terms = PackageTerms(
            package_id=UUID(details["package_id"]),
            code=details["package_code"],
            name=details["package_name"],
            kind=details["package_kind"],
            recurring=details["package_recurring"],
            payment=details["package_payment"],
            price_minor=details["price_minor"],
        )
        return PurchaseCharge(
            amount_minor, UUID(details["subscription_id"]), UUID(details["package_instance_id"]), terms
        )
    if purpose == DebitCharge.purpose:
        return DebitCharge(amount_minor, UUID(details["debit_id"]))
    return TopUpCharge(amount_minor)
