"""On PostgreSQL the read models must agree with the events: each customer's balance, the
transactions that sum to it, and one payment-failure mail per failure the customer is told of."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from uuid import UUID

from domain.notifications import NOTIFIED_PURPOSES
from tests.simulation.evidence import Evidence, Invariant


def the_balance_read_model_is_the_sum_of_its_transactions(ev: Evidence) -> Iterator[str]:
    system = ev.side.system
    if system is None or not ev.customers:
        return
    with system.pool.connection() as conn:
        rows = conn.execute(
            "SELECT c.id, c.balance_minor, coalesce(sum(t.amount_minor), 0), count(t.customer_id)"
            " FROM customers c LEFT JOIN transactions t ON t.customer_id = c.id"
            " WHERE c.id = ANY(%s) GROUP BY c.id, c.balance_minor",
            (list(ev.customers),),
        ).fetchall()
    found = {row[0]: row[1:] for row in rows}
    for customer_id in ev.customers:
        facts = ev.log.customers[customer_id]
        expected = (facts.running_balance, facts.running_balance, len(facts.movements))
        if found.get(customer_id) != expected:
            yield (
                f"{ev.label(customer_id)}: customers.balance_minor, sum and count of transactions are"
                f" {found.get(customer_id)}; the events say {expected}"
            )


def one_mail_per_payment_failure(ev: Evidence) -> Iterator[str]:
    system = ev.side.system
    if system is None:
        return
    if not system.catch_up():
        yield "the payments read model did not catch up"
        return
    with system.pool.connection() as conn:
        mails: dict[UUID, int] = dict(
            conn.execute("SELECT customer_id, count(*) FROM mail_outbox GROUP BY customer_id")
        )
    failures = Counter(
        customer_id
        for payment_id, (customer_id, purpose, _) in ev.log.failures.items()
        if purpose in NOTIFIED_PURPOSES and payment_id not in ev.log.unmailed_failures
    )
    failures.update(ev.log.dunning_steps)  # each step of dunning mails the customer once
    for customer_id in set(mails) | set(failures):
        if mails.get(customer_id, 0) != failures[customer_id]:
            yield (
                f"{ev.label(customer_id)}: {mails.get(customer_id, 0)} mails in the outbox for"
                f" {failures[customer_id]} failed automatic top-ups and recurring payments and dunning steps"
            )


READ_MODEL_INVARIANTS: tuple[Invariant, ...] = (
    the_balance_read_model_is_the_sum_of_its_transactions,
    one_mail_per_payment_failure,
)
