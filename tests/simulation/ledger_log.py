"""The ledger's log as an auditor reads it: every event once, in order, gathered into the facts
the invariants are stated on. It knows nothing of the aggregates' state but what the events say."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from commands.application import Ledger
from domain.aggregates import Customer, Invoice, Subscription
from domain.payments import AutomaticTopUpCharge, Charge


@dataclass
class CustomerFacts:
    emp_id: UUID
    account_type: str
    movements: list[tuple[int, int]] = field(default_factory=list)  # (amount, balance_after)
    card: bool = False
    consent: bool = False
    threshold_minor: int = 0
    automatic_top_up_in_flight: UUID | None = None
    automatic_top_up_declined_at: datetime | None = None

    @property
    def running_balance(self) -> int:
        return sum(amount for amount, _ in self.movements)


@dataclass(frozen=True)
class AutomaticTopUpRequest:
    """An automatic top-up's intent and the customer as the log had it just before."""

    customer_id: UUID
    payment_id: UUID
    at: datetime
    balance_minor: int
    threshold_minor: int
    prepaid: bool
    consent: bool
    card: bool
    in_flight: UUID | None
    last_declined_at: datetime | None


@dataclass
class PackageFacts:
    subscription_id: UUID
    code: str
    acquired_at: datetime
    position: int
    recurring: bool
    payment: str
    cancelled_at: datetime | None = None
    cancelled_position: int = 0
    debited: list[int] = field(default_factory=list)  # period indexes, in log order


@dataclass
class InvoiceFacts:
    subscription_id: UUID
    emp_id: UUID
    period_index: int
    period_end: datetime
    sequence: int
    position: int
    session_ids: list[str]


@dataclass
class SubscriptionFacts:
    emp_id: UUID
    customer_id: UUID
    tariff: str
    billing_day: int
    started_at: datetime
    position: int
    invoiced: list[int] = field(default_factory=list)  # period indexes, in log order
    invoices: list[InvoiceFacts] = field(default_factory=list)


@dataclass
class SessionFacts:
    ended_at: datetime
    position: int
    invoices: list[UUID] = field(default_factory=list)  # SessionsInvoiced naming it


@dataclass(frozen=True)
class CardCredit:
    customer_id: UUID
    payment_id: UUID
    kind: str
    amount_minor: int
    charge_id: str


class LedgerLog:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.position = 0
        self.customers: dict[UUID, CustomerFacts] = {}
        self.subscriptions: dict[UUID, SubscriptionFacts] = {}
        self.packages: dict[UUID, PackageFacts] = {}
        self.invoices: dict[UUID, InvoiceFacts] = {}
        self.sessions: dict[tuple[UUID, str], SessionFacts] = {}  # postpaid customers' sessions
        self.automatic_top_ups: list[AutomaticTopUpRequest] = []
        self.intents: dict[UUID, Charge] = {}
        self.requested: Counter[UUID] = Counter()
        self.settled: Counter[UUID] = Counter()
        self.failed: Counter[UUID] = Counter()
        self.failures: dict[UUID, tuple[UUID, str, int]] = {}  # payment -> (customer, purpose, amount)
        self.unmailed_failures: set[UUID] = set()  # dunning's retries: their step's mail tells
        self.dunning_steps: Counter[UUID] = Counter()  # customer -> steps taken (a mail each)
        self.card_credits: list[CardCredit] = []
        self.debits_posted: Counter[UUID] = Counter()
        self.debits_settled: Counter[UUID] = Counter()
        self.debits_paid_by_card: Counter[UUID] = Counter()
        # Streams that moved in what the last follow read.
        self.touched: set[UUID] = set()
        self.touched_subscriptions: set[UUID] = set()
        self.completed: set[UUID] = set()  # payments settled or failed

    def follow(self) -> None:
        """Read what was recorded since the last call."""
        self.touched, self.touched_subscriptions, self.completed = set(), set(), set()
        recorder: Any = self.ledger.recorder
        while notifications := recorder.select_notifications(
            start=self.position, limit=500, inclusive_of_start=False
        ):
            for notification in notifications:
                self._apply(self.ledger.mapper.to_domain_event(notification), notification.id)
            self.position = notifications[-1].id

    def _apply(self, e: Any, position: int) -> None:
        if isinstance(e, Customer.Registered | Customer.Event):
            self.touched.add(e.originator_id)
            self._apply_to_customer(e, position)
        elif isinstance(e, Subscription.Started | Subscription.Event):
            self.touched_subscriptions.add(e.originator_id)
            self._apply_to_subscription(e, position)
        elif isinstance(e, Invoice.Issued):
            invoice = InvoiceFacts(
                e.subscription_id,
                e.emp_id,
                e.period_index,
                e.period_end,
                e.sequence,
                position,
                [line["reference"] for line in e.lines if line["kind"] == "session"],
            )
            self.invoices[e.originator_id] = invoice
            self.touched_subscriptions.add(e.subscription_id)
            self.subscriptions[e.subscription_id].invoices.append(invoice)

    def _apply_to_customer(self, e: Any, position: int) -> None:
        if isinstance(e, Customer.Registered):
            self.customers[e.originator_id] = CustomerFacts(e.emp_id, e.account_type)
            return
        customer = self.customers[e.originator_id]
        if isinstance(e, Customer.BalanceMoved):
            self._apply_movement(customer, e, position)
        elif isinstance(e, Customer.PaymentCardStored | Customer.PaymentCardRemoved):
            customer.card = isinstance(e, Customer.PaymentCardStored)
        elif isinstance(e, Customer.AutoTopUpConsentGiven):
            customer.consent, customer.threshold_minor = True, e.threshold_minor
        elif isinstance(e, Customer.AutoTopUpConsentWithdrawn):
            customer.consent = False
        elif isinstance(e, Customer.CardPaymentRequested):
            self._apply_request(customer, e)
        elif isinstance(e, Customer.CardPaymentSettled | Customer.PaymentFailed):
            self.completed.add(e.payment_id)
            if customer.automatic_top_up_in_flight == e.payment_id:
                customer.automatic_top_up_in_flight = None
            if isinstance(e, Customer.CardPaymentSettled):
                self.settled[e.payment_id] += 1
            else:
                self.failed[e.payment_id] += 1
                self.failures[e.payment_id] = (e.originator_id, e.purpose, e.attempted_minor)
                if not e.mailed:
                    self.unmailed_failures.add(e.payment_id)
                if e.purpose == AutomaticTopUpCharge.purpose:
                    customer.automatic_top_up_declined_at = e.occurred_at
        elif isinstance(e, Customer.DebitSettled):
            self.debits_settled[e.debit_id] += 1
        elif isinstance(e, Customer.DunningStepTaken):
            self.dunning_steps[e.originator_id] += 1
        elif isinstance(e, Customer.SessionsInvoiced):
            for session_id in e.session_ids:
                session = self.sessions.get((e.originator_id, session_id))
                if session is not None:
                    session.invoices.append(e.invoice_id)

    def _apply_movement(self, customer: CustomerFacts, e: Any, position: int) -> None:
        customer.movements.append((e.amount_minor, e.balance_after_minor))
        if isinstance(e, Customer.SessionCharged) and customer.account_type == "postpaid":
            self.sessions[(e.originator_id, e.session_id)] = SessionFacts(e.ended_at, position)
        elif isinstance(e, Customer.PrepaymentDebited):
            self.debits_posted[e.debit_id] += 1
        elif isinstance(e, Customer.TopUpApplied | Customer.PaymentTaken):
            credit = CardCredit(e.originator_id, e.payment_id, e.kind, e.amount_minor, e.charge_id)
            self.card_credits.append(credit)
            if isinstance(e, Customer.PaymentTaken) and e.debit_id is not None:
                self.debits_paid_by_card[e.debit_id] += 1

    def _apply_request(self, customer: CustomerFacts, e: Any) -> None:
        self.intents[e.payment_id] = e.charge
        self.requested[e.payment_id] += 1
        if not isinstance(e.charge, AutomaticTopUpCharge):
            return
        self.automatic_top_ups.append(
            AutomaticTopUpRequest(
                e.originator_id,
                e.payment_id,
                e.occurred_at,
                customer.running_balance,
                customer.threshold_minor,
                customer.account_type == "prepaid",
                customer.consent,
                customer.card,
                customer.automatic_top_up_in_flight,
                customer.automatic_top_up_declined_at,
            )
        )
        customer.automatic_top_up_in_flight = e.payment_id

    def _apply_to_subscription(self, e: Any, position: int) -> None:
        if isinstance(e, Subscription.Started):
            self.subscriptions[e.originator_id] = SubscriptionFacts(
                e.emp_id, e.customer_id, e.tariff, e.billing_day, e.occurred_at, position
            )
        elif isinstance(e, Subscription.PackageAcquired):
            self.packages[e.package_instance_id] = PackageFacts(
                e.originator_id, e.code, e.occurred_at, position, e.recurring, e.payment
            )
        elif isinstance(e, Subscription.PackageCancelled):
            package = self.packages[e.package_instance_id]
            package.cancelled_at, package.cancelled_position = e.occurred_at, position
        elif isinstance(e, Subscription.PeriodDebited):
            self.packages[e.package_instance_id].debited.append(e.period_index)
        elif isinstance(e, Subscription.PeriodInvoiced):
            self.subscriptions[e.originator_id].invoiced.append(e.period_index)
