"""The write side without a database: the Ledger on the library's in-memory persistence, with
the jobs' work lists and the pending card payments read from its own log. Rules are told as
stories on it, and the seeded simulation runs on it (tests/simulation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from commands.application import Ledger
from commands.ports import Clock, PaymentGateway
from commands.unit_of_work import Services
from domain.aggregates import Customer, Invoice, Subscription
from domain.aggregates.invoice import UninvoicedSession

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def in_memory_services(clock: Clock, gateway: PaymentGateway) -> Services:
    return Services(ledger=Ledger(env=dict(IN_MEMORY)), gateway=gateway, clock=clock)


class LogWorkLists:
    """What the PostgreSQL read models give the jobs and the card-payment worker, followed from
    the log each time it is asked."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._position = 0
        self._subscriptions: dict[UUID, tuple[UUID, str]] = {}  # id -> (emp, tariff)
        self._recurring: set[UUID] = set()  # subscriptions with a recurring package
        self._emp_of: dict[UUID, UUID] = {}  # customer -> emp
        self._unpaid: dict[UUID, tuple[UUID, datetime]] = {}  # debit -> (customer, due)
        self._sessions: dict[UUID, dict[str, UninvoicedSession]] = {}
        self._pending: dict[UUID, tuple[UUID, datetime, str]] = {}  # payment -> (customer, at, purpose)
        self._open_invoices: dict[UUID, tuple[UUID, datetime]] = {}  # invoice -> (customer, due)
        self._dunned: set[UUID] = set()  # customers in dunning

    def _follow(self) -> None:
        recorder: Any = self.ledger.recorder
        while notifications := recorder.select_notifications(
            start=self._position, limit=1000, inclusive_of_start=False
        ):
            for notification in notifications:
                self._apply(self.ledger.mapper.to_domain_event(notification))
            self._position = notifications[-1].id

    def _apply(self, e: Any) -> None:
        if isinstance(e, Customer.Registered):
            self._emp_of[e.originator_id] = e.emp_id
        elif isinstance(e, Subscription.Started):
            self._subscriptions[e.originator_id] = (e.emp_id, e.tariff)
        elif isinstance(e, Subscription.PackageAcquired) and e.recurring:
            self._recurring.add(e.originator_id)
        elif isinstance(e, Customer.PrepaymentDebited) and e.settled_by is None:
            self._unpaid[e.debit_id] = (e.originator_id, e.period_start or e.occurred_at)
        elif isinstance(e, Customer.DebitSettled):
            self._unpaid.pop(e.debit_id, None)
        elif isinstance(e, Customer.SessionCharged):
            self._sessions.setdefault(e.originator_id, {})[e.session_id] = UninvoicedSession(
                e.session_id, e.ended_at, e.energy_wh, -e.amount_minor
            )
        elif isinstance(e, Customer.SessionsInvoiced):
            for session_id in e.session_ids:
                self._sessions.get(e.originator_id, {}).pop(session_id, None)
        elif isinstance(e, Invoice.Issued) and e.due_at is not None:
            self._open_invoices[e.originator_id] = (e.customer_id, e.due_at)
        elif isinstance(e, Invoice.Paid):
            self._open_invoices.pop(e.originator_id, None)
        elif isinstance(e, Customer.DunningStepTaken):
            self._dunned.add(e.originator_id)
        elif isinstance(e, Customer.DunningEnded):
            self._dunned.discard(e.originator_id)
        elif isinstance(e, Customer.CardPaymentRequested):
            self._pending[e.payment_id] = (e.originator_id, e.timestamp, e.charge.purpose)
        elif isinstance(e, Customer.CardPaymentSettled | Customer.PaymentFailed):
            self._pending.pop(e.payment_id, None)

    # --- BillingQueries ------------------------------------------------------------------

    def prepaid_subscriptions_with_recurring_packages(self) -> list[tuple[UUID, UUID]]:
        self._follow()
        return sorted(
            (emp, sid)
            for sid, (emp, tariff) in self._subscriptions.items()
            if tariff == "prepaid" and sid in self._recurring
        )

    def customers_to_dun(self, due_by: datetime) -> list[tuple[UUID, UUID]]:
        self._follow()
        customers = {customer for customer, due in self._unpaid.values() if due <= due_by}
        customers |= {customer for customer, due in self._open_invoices.values() if due <= due_by}
        return sorted((self._emp_of[customer], customer) for customer in customers | self._dunned)

    def overdue_invoices(self, customer_id: UUID, due_by: datetime) -> list[tuple[UUID, datetime]]:
        self._follow()
        return sorted(
            (
                (invoice, due)
                for invoice, (customer, due) in self._open_invoices.items()
                if customer == customer_id and due <= due_by
            ),
            key=lambda item: (item[1], item[0]),
        )

    def postpaid_subscriptions(self) -> list[tuple[UUID, UUID]]:
        self._follow()
        return sorted(
            (emp, sid) for sid, (emp, tariff) in self._subscriptions.items() if tariff == "postpaid"
        )

    def uninvoiced_sessions(self, customer_id: UUID, ended_before: datetime) -> list[UninvoicedSession]:
        self._follow()
        sessions = self._sessions.get(customer_id, {}).values()
        return sorted(
            (s for s in sessions if s.ended_at < ended_before), key=lambda s: (s.ended_at, s.session_id)
        )

    # --- the card-payment worker's list --------------------------------------------------

    def pending_card_payments(self, automatic_only_before: datetime) -> list[tuple[UUID, UUID]]:
        self._follow()
        return [
            (customer, payment)
            for payment, (customer, at, purpose) in self._pending.items()
            if purpose == "automatic_top_up" or at < automatic_only_before
        ]
