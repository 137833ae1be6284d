"""Every customer's balance: the aggregate's, the sum of its movements, a replay from the store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tests.simulation.evidence import Evidence


def balance_is_the_sum_of_its_movements(ev: Evidence) -> Iterator[str]:
    for customer_id in ev.customers:
        aggregate = ev.ledger.find_customer(customer_id)
        movements = ev.log.customers[customer_id].running_balance
        if aggregate is None or aggregate.balance_minor != movements:
            balance = None if aggregate is None else aggregate.balance_minor
            yield f"{ev.label(customer_id)}: the aggregate says {balance}, its movements sum to {movements}"


def every_balance_after_is_the_running_sum(ev: Evidence) -> Iterator[str]:
    for customer_id in ev.customers:
        running = 0
        for n, (amount, after) in enumerate(ev.log.customers[customer_id].movements, 1):
            running += amount
            if after != running:
                yield f"{ev.label(customer_id)}: movement {n} ({amount:+}) says {after}, the sum is {running}"
                break


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's projector without its per-event protocol check (a third of the run)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def a_replay_from_the_store_gives_the_same_balance(ev: Evidence) -> Iterator[str]:
    for customer_id in ev.customers:
        replayed = ev.ledger.repository.get(customer_id, projector_func=replay)
        movements = ev.log.customers[customer_id].running_balance
        if replayed.balance_minor != movements:
            replayed_balance = replayed.balance_minor
            yield f"{ev.label(customer_id)}: the replay says {replayed_balance}, the movements {movements}"
