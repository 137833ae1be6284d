"""Recurring Prepayment and Invoice Production: every period debited or invoiced exactly once, up
to what is due; gapless invoice numbers; every postpaid session on one invoice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.periods import billing_period, day_start, periods_from
from tests.simulation.evidence import Evidence
from tests.simulation.history import History
from tests.simulation.ledger_log import PackageFacts, SubscriptionFacts

UTC = ZoneInfo("UTC")  # the simulated EMPs' time zone


def renewal_start(acquired_at: datetime, index: int) -> datetime:
    """The start of a package's index-th period: midnight of its acquisition day, then monthly."""
    periods = periods_from(0, day_start(acquired_at, UTC), acquired_at.astimezone(UTC).day, UTC)
    return next(islice(periods, index, None)).start


def due_renewals(package: PackageFacts, history: History) -> tuple[int, datetime | None]:
    """How many periods of a recurring prepaid package the last Recurring Prepayment run that
    knew it had to debit (a cancellation counts if that run knew it too), and its `as_of`."""
    as_of = history.last_run_that_knew("recurring-prepayment", package.position)
    cancelled_at = package.cancelled_at
    if (
        cancelled_at is not None
        and history.last_run_that_knew("recurring-prepayment", package.cancelled_position) is None
    ):
        cancelled_at = None
    count = 0
    while as_of is not None:
        start = renewal_start(package.acquired_at, count)
        if start > as_of or (cancelled_at is not None and start >= cancelled_at):
            break
        count += 1
    return count, as_of


def every_prepaid_period_is_debited_once(ev: Evidence) -> Iterator[str]:
    for instance_id, package in ev.log.packages.items():
        subscription = ev.log.subscriptions[package.subscription_id]
        if package.subscription_id not in ev.subscriptions:
            continue
        if not (package.recurring and subscription.tariff == "prepaid"):
            continue
        count, as_of = due_renewals(package, ev.history)
        due = list(range(count))
        if package.debited != due:
            who = ev.label(subscription.customer_id)
            yield (
                f"{who}: {package.code} ({instance_id}) acquired {package.acquired_at:%Y-%m-%d %H:%M}"
                f" has periods {package.debited} debited; due by {as_of} are {due}"
            )


def every_debit_is_posted_and_paid_at_most_once(ev: Evidence) -> Iterator[str]:
    for name, counter in (
        ("posted", ev.log.debits_posted),
        ("settled", ev.log.debits_settled),
        ("paid by card", ev.log.debits_paid_by_card),
    ):
        for debit_id, times in counter.items():
            if times > 1:
                yield f"debit {debit_id} was {name} {times} times"


def due_billing_periods(subscription: SubscriptionFacts, history: History) -> tuple[int, datetime | None]:
    """How many postpaid periods had ended by the `as_of` of the last Invoice Production run
    that knew the subscription, and that `as_of`."""
    as_of = history.last_run_that_knew("invoice-production", subscription.position)
    count = 0
    while as_of is not None:
        if billing_period(subscription.started_at, subscription.billing_day, count, UTC).end > as_of:
            break
        count += 1
    return count, as_of


def every_billing_period_is_invoiced_once(ev: Evidence) -> Iterator[str]:
    for subscription_id in ev.subscriptions:
        subscription = ev.log.subscriptions[subscription_id]
        if subscription.tariff != "postpaid":
            continue
        count, as_of = due_billing_periods(subscription, ev.history)
        due = list(range(count))
        issued = [invoice.period_index for invoice in subscription.invoices]
        if subscription.invoiced != due or issued != due:
            yield (
                f"{ev.label(subscription.customer_id)}: periods invoiced {subscription.invoiced},"
                f" invoices issued for {issued}; due by {as_of} are {due}"
            )


def invoice_numbers_are_gapless_per_emp(ev: Evidence) -> Iterator[str]:
    sequences: dict[UUID, list[int]] = {}
    for invoice in ev.log.invoices.values():
        sequences.setdefault(invoice.emp_id, []).append(invoice.sequence)
    for emp_id, numbers in sequences.items():
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            yield f"EMP {emp_id}: invoice sequences {sorted(numbers)}"


def every_session_lands_on_one_invoice(ev: Evidence) -> Iterator[str]:
    """At most one invoice; exactly one once an invoice for a period ending after it was issued
    after it was recorded (a late session goes on the next invoice)."""
    on_lines: dict[str, list[UUID]] = {}
    for invoice_id, invoice in ev.log.invoices.items():
        for session_id in invoice.session_ids:
            on_lines.setdefault(session_id, []).append(invoice_id)
    latest = {s.customer_id: s.invoices[-1] for s in ev.log.subscriptions.values() if s.invoices}
    billed = ev.customers | {ev.log.subscriptions[s].customer_id for s in ev.subscriptions}
    for (customer_id, session_id), session in ev.log.sessions.items():
        if customer_id not in billed:
            continue
        lines = on_lines.get(session_id, [])
        who = f"{ev.label(customer_id)}: session {session_id} ended {session.ended_at:%Y-%m-%d %H:%M}"
        if len(session.invoices) > 1 or len(lines) > 1:
            yield f"{who} is on {len(session.invoices)} invoices ({len(lines)} by their lines)"
        elif sorted(session.invoices) != sorted(lines):
            yield f"{who}: recorded as invoiced on {session.invoices}, its line is on {lines}"
        last = latest.get(customer_id)
        if last is None or session.invoices:
            continue
        if last.position > session.position and last.period_end > session.ended_at:
            yield f"{who} is on no invoice; the period up to {last.period_end:%Y-%m-%d} was invoiced after it"
