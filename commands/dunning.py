"""Dunning's commands (the ladder is domain/dunning.py): the daily step the Recurring Payment run
takes for each customer with something overdue, the card retry of overdue debits (on a retry
day, or at once when a new card is stored), and the end of dunning when invoices are settled.

Every effect has a deterministic id: a step is an event at the customer's next version (a
second run, concurrent or after a crash, finds it taken), a retry's card payment is
uuid5(debit, step and start of dunning), so it is charged once."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID, uuid5

from commands.billing_queries import BillingQueries
from commands.recurring_payment import pay_debit
from commands.unit_of_work import Services, retrying
from domain.aggregates import Customer, Invoice
from domain.dunning import DunningPolicy, Overdue, Rung, day_of_dunning, dunning_since, rung_due


def overdue_of(
    services: Services, queries: BillingQueries, customer: Customer, as_of: datetime
) -> list[Overdue]:
    """What the customer owes past its due date: prepaid debits, open postpaid invoices."""
    overdue = customer.overdue_debits(as_of)
    for invoice_id, due_at in queries.overdue_invoices(customer.id, as_of):
        invoice = services.ledger.get_invoice(invoice_id, customer.emp_id)
        if invoice.open_minor > 0:
            overdue.append(Overdue("invoice", str(invoice_id), invoice.open_minor, due_at))
    return overdue


def take_dunning_step(
    services: Services, queries: BillingQueries, emp_id: UUID, customer_id: UUID, as_of: datetime, actor: str
) -> str | None:
    """Today's step of the customer's ladder, if one is due: "step", "blocked", "ended" or None."""
    ledger = services.ledger
    emp = ledger.get_emp(emp_id)
    policy = DunningPolicy.of(emp.dunning)
    customer = ledger.get_customer(customer_id, emp_id)
    overdue = overdue_of(services, queries, customer, as_of)
    rung = rung_due(policy, customer.dunning, overdue, as_of, emp.zone)
    retried = False
    if isinstance(rung, Rung) and rung.retry and customer.card_retryable and customer.overdue_debits(as_of):
        since = dunning_since(customer.dunning, overdue)
        retry_overdue_debits(services, customer, as_of, f"dunning:{since.isoformat()}:{rung.step}", actor)
        retried = True

    def attempt() -> str | None:
        current = ledger.get_customer(customer_id, emp_id)
        now_overdue = overdue_of(services, queries, current, as_of)
        decision = rung_due(policy, current.dunning, now_overdue, as_of, emp.zone)
        now = services.now_for(emp_id)
        if decision is None:
            return None
        if decision is False:
            reason = "off" if policy is None else "paid" if not now_overdue else "below_minimum"
            current.end_dunning(reason=reason, occurred_at=now, caused_by=actor)
            outcome = "ended"
        else:
            day = day_of_dunning(dunning_since(current.dunning, now_overdue), as_of, emp.zone)
            current.take_dunning_step(
                decision, now_overdue, day=day, retried=retried, occurred_at=now, caused_by=actor
            )
            outcome = "blocked" if decision.block else "step"
        ledger.save(current)
        return outcome

    return retrying(attempt)


def retry_overdue_debits(
    services: Services, customer: Customer, as_of: datetime, key: str, actor: str
) -> None:
    """Charge each overdue debit to the stored card once per `key` (a settled one is skipped)."""
    for item in customer.overdue_debits(as_of):
        debit_id = UUID(item.id)
        attempt_id = uuid5(debit_id, key)
        retrying(
            partial(pay_debit, services, customer.emp_id, customer.id, debit_id, attempt_id, actor, True)
        )


def end_dunning_if_settled(
    services: Services, customer: Customer, changed: Invoice, *, occurred_at: datetime, caused_by: str
) -> None:
    """After a payment or credit note on an invoice: dunning of a postpaid customer ends when
    what is still open of the invoices it counted is less than the minimum (or nothing)."""
    state = customer.dunning
    if state is None or str(changed.id) not in state.invoices:
        return
    policy = DunningPolicy.of(services.ledger.get_emp(customer.emp_id).dunning)
    open_minor = 0
    for invoice_id in state.invoices:
        invoice: Any = changed if invoice_id == str(changed.id) else None
        invoice = invoice or services.ledger.get_invoice(UUID(invoice_id), customer.emp_id)
        open_minor += invoice.open_minor
    if policy is None or open_minor == 0 or open_minor < policy.minimum_minor:
        reason = "paid" if open_minor == 0 else "below_minimum"
        customer.end_dunning(reason=reason, occurred_at=occurred_at, caused_by=caused_by)
