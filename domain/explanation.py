"""Why is the balance what it is? Every event that moved it up to an instant, with its cause,
its running balance, its business time and its recording time. The deltas always sum to the
balance: both come from the same events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.aggregates import Customer
from domain.payments import AutomaticTopUpCharge, Charge

REDACTED_FIELDS = frozenset({"token", "card_token"})
HIDDEN_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


@dataclass(frozen=True)
class Line:
    sequence: int
    type: str
    recorded_at: datetime
    occurred_at: datetime
    delta_minor: int
    balance_after_minor: int
    reference: str | None
    description: str
    caused_by: str
    cause: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    balance_minor: int
    lines: list[Line]


def explain(events: Iterable[Any], at: datetime | None = None, as_of: datetime | None = None) -> Explanation:
    """The balance as recorded at `at` (default: now), line by line, in recording order. With
    `as_of`, only what had happened by that business instant, in business-time order."""
    lines: list[Line] = []
    balance = 0
    charges: dict[str, Charge] = {}
    for event in events:
        if at is not None and event.timestamp > at:
            break
        if isinstance(event, Customer.CardPaymentRequested):
            charges[str(event.payment_id)] = event.charge
        elif isinstance(event, Customer.BalanceMoved):
            balance = event.balance_after_minor
            cause = _cause(event, charges)
            reference, description = event.reference(), event.description()
            lines.append(_line(event, event.amount_minor, balance, reference, description, cause))
        elif isinstance(event, Customer.PaymentFailed):
            cause = {
                "purpose": event.purpose,
                "attempted_minor": event.attempted_minor,
                "decline_code": event.decline_code,
                **_rule(charges.get(str(event.payment_id))),
            }
            description = f"Card payment declined ({event.decline_code})"
            lines.append(_line(event, 0, balance, str(event.payment_id), description, cause))
        elif isinstance(event, Customer.DunningStepTaken | Customer.DunningEnded):
            lines.append(_line(event, 0, balance, None, *_dunning(event)))
    if as_of is None:
        return Explanation(balance, lines)
    return in_business_time(lines, as_of)


def in_business_time(lines: list[Line], as_of: datetime) -> Explanation:
    """The lines that had happened by `as_of`, ordered by business time, with the running
    balance of that order: a session recorded late still sits where it happened."""
    happened = sorted(
        (line for line in lines if line.occurred_at <= as_of),
        key=lambda line: (line.occurred_at, line.sequence),
    )
    balance = 0
    ordered: list[Line] = []
    for line in happened:
        balance += line.delta_minor
        ordered.append(replace(line, balance_after_minor=balance))
    return Explanation(balance, ordered)


def _line(
    event: Any, delta: int, balance: int, reference: str | None, description: str, cause: dict[str, Any]
) -> Line:
    return Line(
        sequence=event.originator_version,
        type=type(event).__name__,
        recorded_at=event.timestamp,
        occurred_at=event.occurred_at,
        delta_minor=delta,
        balance_after_minor=balance,
        reference=reference,
        description=description,
        caused_by=event.caused_by,
        cause=cause,
    )


def _cause(event: Any, charges: dict[str, Charge]) -> dict[str, Any]:
    if isinstance(event, Customer.SessionCredited):
        return {
            "session_id": event.session_id,
            "credited_session_id": event.credited_session_id,
            "started_at": event.started_at,
            "ended_at": event.ended_at,
            "energy_wh": event.energy_wh,
            "location": event.location,
        }
    if isinstance(event, Customer.SessionCharged):
        return {
            "session_id": event.session_id,
            "started_at": event.started_at,
            "ended_at": event.ended_at,
            "energy_wh": event.energy_wh,
            "location": event.location,
        }
    if isinstance(event, Customer.TopUpApplied):
        return {
            "source": event.source,
            "charge_id": event.charge_id,
            **_rule(charges.get(str(event.payment_id))),
        }
    if isinstance(event, Customer.PrepaymentDebited):
        return {
            "package_code": event.package_code,
            "settled_by": event.settled_by,
            "period_start": event.period_start,
            "period_end": event.period_end,
        }
    if isinstance(event, Customer.UnusedDaysCredited):
        return {
            "package_code": event.package_code,
            "period_start": event.period_start,
            "period_end": event.period_end,
        }
    if isinstance(event, Customer.PaymentTaken):
        return {"charge_id": event.charge_id, "debit_id": str(event.debit_id) if event.debit_id else None}
    if isinstance(event, Customer.AdjustmentRecorded):
        return {"reason": event.reason, "recorded_by": event.caused_by}
    return {}


def _dunning(event: Customer.DunningStepTaken | Customer.DunningEnded) -> tuple[str, dict[str, Any]]:
    """Dunning's steps and end (domain/dunning.py): the balance does not move."""
    if isinstance(event, Customer.DunningEnded):
        unblocked = ", unblocked" if event.unblocked else ""
        return f"Dunning ended ({event.reason}){unblocked}", {
            "reason": event.reason,
            "unblocked": event.unblocked,
        }
    done = ", card retried" if event.retried else ""
    blocked = ", blocked" if event.blocked else ""
    cause = {
        "step": event.step,
        "day": event.day,
        "overdue_minor": event.overdue_minor,
        "blocked": event.blocked,
    }
    return f"Dunning step {event.step} on day {event.day}{done}{blocked}", cause


def _rule(charge: Charge | None) -> dict[str, Any]:
    """The automatic top-up rule that triggered a payment, as recorded with its intent."""
    if not isinstance(charge, AutomaticTopUpCharge):
        return {}
    return {
        "rule": "automatic top-up below threshold",
        "threshold_minor": charge.threshold_minor,
        "balance_at_trigger_minor": charge.balance_at_trigger_minor,
        "trigger_sequence": charge.trigger_sequence,
    }


def event_data(event: Any) -> dict[str, Any]:
    """An event's own fields for the history view; payment tokens are masked."""
    data = {}
    for name, value in event.__dict__.items():
        if name in HIDDEN_FIELDS:
            continue
        if name in REDACTED_FIELDS and isinstance(value, str):
            value = value[:4] + "…"
        data[name] = value
    return data
