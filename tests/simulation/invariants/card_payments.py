"""Card payments: charged at most once at the gateway, an approval taking effect once, one failure
record per declined payment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from domain.payments import PurchaseCharge
from tests.simulation.evidence import Evidence


def each_payment_is_charged_at_most_once(ev: Evidence) -> Iterator[str]:
    attempts = ev.gateway.attempts
    if len(attempts) != len(set(attempts)):
        for key, times in Counter(attempts).items():
            if times > 1:
                yield f"{key} was charged {times} times at the gateway"


def every_card_credit_has_one_approved_charge(ev: Evidence) -> Iterator[str]:
    for credit in ev.new_card_credits:
        charged = ev.gateway.charges.get(f"payment:{credit.payment_id}")
        who = f"{ev.label(credit.customer_id)}: {credit.kind} {credit.amount_minor:+} of {credit.payment_id}"
        if charged is None:
            yield f"{who} has no gateway charge"
        elif not charged[0].approved or charged[1] != credit.amount_minor:
            yield f"{who} was charged {charged[1]}, approved {charged[0].approved}"
        elif charged[0].charge_id != credit.charge_id:
            yield f"{who} names charge {credit.charge_id}, the gateway's is {charged[0].charge_id}"


def no_payment_is_credited_twice(ev: Evidence) -> Iterator[str]:
    credits = Counter((credit.payment_id, credit.kind) for credit in ev.log.card_credits)
    for (payment_id, kind), times in credits.items():
        if times > 1:
            yield f"payment {payment_id} was credited as {kind} {times} times"


def every_charge_takes_effect_once(ev: Evidence) -> Iterator[str]:
    """An approved charge settles its payment once; a declined one records one failure."""
    log = ev.log
    for payment_id in ev.payments:
        key = f"payment:{payment_id}"
        charged = ev.gateway.charges.get(key)
        settled, failed = log.settled[payment_id], log.failed[payment_id]
        if charged is None:
            if settled:
                yield f"{key} was settled {settled} times, never charged"
            continue
        result, amount = charged
        intent = log.intents.get(payment_id)
        expected = (1, 0) if result.approved else (0, 1)
        if intent is None or intent.amount_minor != amount:
            yield f"{key}: charged {amount} for the intent {intent}"
        elif (settled, failed) != expected:
            outcome = "approved" if result.approved else "declined"
            yield f"{key} ({outcome}): settled {settled} times, recorded as failed {failed} times"


def a_package_paid_by_card_is_acquired_once_approved(ev: Evidence) -> Iterator[str]:
    for payment_id in ev.payments:
        charge = ev.log.intents.get(payment_id)
        if not isinstance(charge, PurchaseCharge):
            continue
        acquired = charge.package_instance_id in ev.log.packages
        settled = ev.log.settled[payment_id] > 0
        if acquired != settled and (settled or ev.log.failed[payment_id]):
            yield f"{charge.terms.code} paid by {payment_id}: settled {settled}, acquired {acquired}"


def one_failure_record_per_declined_payment(ev: Evidence) -> Iterator[str]:
    for payment_id in ev.payments:
        times = ev.log.failed[payment_id]
        if times > 1:
            customer_id, purpose, _ = ev.log.failures[payment_id]
            yield f"{ev.label(customer_id)}: {purpose} {payment_id} recorded as failed {times} times"


def a_failure_is_recorded_only_for_money_owed(ev: Evidence) -> Iterator[str]:
    """Nobody is mailed that paying 0.00 failed."""
    for payment_id in ev.payments & ev.log.failures.keys():
        customer_id, purpose, attempted = ev.log.failures[payment_id]
        if attempted <= 0:
            yield f"{ev.label(customer_id)}: {purpose} {payment_id} failed for {attempted}"
