"""Small steps of the ledger stories, told to the real write side in memory: the Ledger on the
library's in-memory persistence, a clock that moves only when told, and a gateway that follows
the PSP's test tokens. What a story asserts is what a user sees: answers, balances, the
transactions list, recorded payment failures and what the card was charged."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from commands.handlers import handle
from commands.in_memory import LogWorkLists, in_memory_services
from commands.jobs import JOBS, JobResult, Scope
from commands.messages import (
    CompleteCardPayment,
    DefinePackage,
    PurchasePackage,
    RecordSession,
    RegisterCustomer,
    RegisterEmp,
    SetAutoTopUp,
    StartSubscription,
    StorePaymentCard,
    TopUpBalance,
)
from commands.ports import ManualClock
from commands.sessions import SessionAnswer, record_sessions
from commands.simulated_gateway import InMemoryGateway
from commands.unit_of_work import BalanceChanged, Outcome, PaymentCompleted, SessionRecorded
from domain.aggregates import Customer, PaymentCard

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = "story"
WORKER = "process:card-payments"
# The card-payment worker completes automatic top-ups at once, any other payment after this.
RECOVERY_AFTER = timedelta(seconds=30)

VISA = PaymentCard("tok_visa", "visa", "4242", 12, 2030)
# Attaches, but every charge on it is declined.
FAILING_CARD = PaymentCard("tok_chargeCustomerFail", "visa", "0341", 12, 2030)
# Refused when it is stored.
DECLINED_CARD = PaymentCard("tok_chargeDeclined", "visa", "0002", 12, 2030)

PACKAGES = {
    "BASE-PRE": ("base", True, "prepaid", 990),
    "BASE-POST": ("base", True, "postpaid", 1490),
    "BOLT-PRE": ("bolt_on", True, "prepaid", 300),
    "ONCE": ("bolt_on", False, "any", 500),
    "TOPUP-20": ("top_up", False, "prepaid", 2000),
}


class LedgerStory:
    """One EMP (with the catalog above) on an in-memory ledger; `other_emp` is a second one."""

    def __init__(self, gateway: InMemoryGateway | None = None) -> None:
        self.clock = ManualClock(START)
        self.gateway = gateway or InMemoryGateway()
        self.services = in_memory_services(self.clock, self.gateway)
        self.worklists = LogWorkLists(self.services.ledger)
        self.emp_id = self.register_emp("Volt EMP")
        self.copy_catalog(self.emp_id)

    def copy_catalog(self, emp_id: UUID) -> None:
        """The catalog above, for that EMP."""
        for code, (kind, recurring, payment, price) in PACKAGES.items():
            self.do(DefinePackage(emp_id, code, code.title(), kind, recurring, payment, price, ACTOR))

    def do(self, command: object) -> Any:
        return handle(command, self.services)

    # --- accounts ----------------------------------------------------------------------

    def register_emp(self, name: str) -> UUID:
        emp: Outcome = self.do(RegisterEmp(name, "EUR", 1000, 3000, ACTOR))
        return emp.id

    def customer(
        self,
        account_type: str = "prepaid",
        *,
        card: PaymentCard | None = None,
        auto_top_up: bool = False,
        threshold_minor: int | None = None,
        amount_minor: int | None = None,
        emp_id: UUID | None = None,
    ) -> UUID:
        emp = emp_id or self.emp_id
        registered: Outcome = self.do(
            RegisterCustomer(emp, "Ann Driver", "ann@example.com", account_type, None, ACTOR)
        )
        if card is not None:
            self.do(StorePaymentCard(emp, registered.id, card, ACTOR))
        if auto_top_up:
            self.do(SetAutoTopUp(emp, registered.id, True, threshold_minor, amount_minor, ACTOR))
        return registered.id

    def subscribe(self, customer_id: UUID, base: str) -> UUID:
        started: Outcome = self.do(StartSubscription(self.emp_id, customer_id, base, None, ACTOR))
        return started.id

    # --- what customers do -------------------------------------------------------------

    def session_command(
        self,
        customer_id: UUID,
        cost_minor: int,
        *,
        session_id: str | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        energy_wh: int = 12_500,
        location: str | None = "FI-HEL-001",
        emp_id: UUID | None = None,
    ) -> RecordSession:
        ended = ended_at or self.clock.now() - timedelta(minutes=1)
        return RecordSession(
            emp_id=emp_id or self.emp_id,
            session_id=session_id or f"S-{uuid.uuid4().hex[:12]}",
            customer_id=customer_id,
            started_at=started_at or ended - timedelta(minutes=40),
            ended_at=ended,
            energy_wh=energy_wh,
            cost_minor=cost_minor,
            location=location,
            actor=ACTOR,
        )

    def session(self, customer_id: UUID, cost_minor: int, **details: Any) -> SessionRecorded:
        recorded: SessionRecorded = self.do(self.session_command(customer_id, cost_minor, **details))
        return recorded

    def sessions(self, commands: Sequence[RecordSession]) -> list[SessionAnswer]:
        return record_sessions(commands, self.services)

    def top_up(self, customer_id: UUID, amount_minor: int, request_key: str | None = None) -> BalanceChanged:
        changed: BalanceChanged = self.do(
            TopUpBalance(self.emp_id, customer_id, amount_minor, ACTOR, request_key=request_key)
        )
        return changed

    def purchase(self, subscription_id: UUID, package: str, request_key: str | None = None) -> Outcome:
        bought: Outcome = self.do(PurchasePackage(self.emp_id, subscription_id, package, ACTOR, request_key))
        return bought

    # --- what runs by itself -----------------------------------------------------------

    def run_job(self, name: str, as_of: datetime | None = None) -> JobResult:
        """A batch job on the work lists the log gives, as of now unless told."""
        return JOBS[name](
            self.services, self.worklists, as_of or self.clock.now(), f"job:{name}", Scope(self.services)
        )

    def run_card_payment_worker(self) -> list[PaymentCompleted]:
        """One pass of the card-payment worker over the payments pending now."""
        cutoff = self.clock.now() - RECOVERY_AFTER
        return [
            self.complete_card_payment(customer_id, payment_id)
            for customer_id, payment_id in self.worklists.pending_card_payments(automatic_only_before=cutoff)
        ]

    def complete_card_payment(self, customer_id: UUID, payment_id: UUID) -> PaymentCompleted:
        completed: PaymentCompleted = self.do(CompleteCardPayment(customer_id, payment_id, WORKER))
        return completed

    # --- what users see ----------------------------------------------------------------

    def balance(self, customer_id: UUID, emp_id: UUID | None = None) -> int:
        return self.services.ledger.get_customer(customer_id, emp_id or self.emp_id).balance_minor

    def history(self, customer_id: UUID) -> list[Any]:
        """Every event the customer's history holds, in order."""
        return list(self.services.ledger.events.get(customer_id))

    def transactions(self, customer_id: UUID) -> list[tuple[str, int]]:
        """The transactions list: each balance movement's type and signed amount."""
        return [
            (e.kind, e.amount_minor)
            for e in self.history(customer_id)
            if isinstance(e, Customer.BalanceMoved)
        ]

    def descriptions(self, customer_id: UUID) -> list[str]:
        return [e.description() for e in self.history(customer_id) if isinstance(e, Customer.BalanceMoved)]

    def failed_payments(self, customer_id: UUID) -> list[tuple[str, int, str]]:
        """Recorded payment failures (each mails the customer): purpose, amount, decline."""
        return [
            (e.purpose, e.attempted_minor, e.decline_code)
            for e in self.history(customer_id)
            if isinstance(e, Customer.PaymentFailed)
        ]

    def debits_settled(self, customer_id: UUID) -> list[str]:
        """How each paid debit was paid, in order: `balance` or `card`."""
        return [e.settled_by for e in self.history(customer_id) if isinstance(e, Customer.DebitSettled)]

    def pending_payments(self, customer_id: UUID) -> list[UUID]:
        """The customer's card payments still awaiting their outcome, whatever their age."""
        every = datetime.max.replace(tzinfo=UTC)
        return [
            payment
            for customer, payment in self.worklists.pending_card_payments(automatic_only_before=every)
            if customer == customer_id
        ]

    def card_charges(self) -> list[tuple[int, bool]]:
        """What the gateway charged, once per idempotency key: amount and whether approved."""
        return [(amount, result.approved) for result, amount in self.gateway.charges.values()]

    def package_codes(self, subscription_id: UUID) -> list[str]:
        subscription = self.services.ledger.get_subscription(subscription_id, self.emp_id)
        return [p["code"] for p in subscription.packages.values()]
