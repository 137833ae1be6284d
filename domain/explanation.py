"""Why is the balance what it is? Every event that moved it up to an instant, with its cause,
its running balance, its business time and its recording time. The deltas always sum to the
balance: both come from the same events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.aggregates import Customer

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
    caused_by: str
    cause: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    balance_minor: int
    lines: list[Line]


def explain(events: Iterable[Any], at: datetime | None = None) -> Explanation:
    """The balance as recorded at `at` (default: now), line by line."""
    lines: list[Line] = []
    balance = 0
    requests: dict[str, dict[str, Any]] = {}
    for event in events:
        if at is not None and event.timestamp > at:
            break
        if isinstance(event, Customer.CardPaymentRequested):
            requests[str(event.payment_id)] = {"purpose": event.purpose, **event.details}
        elif isinstance(event, Customer.BalanceMoved):
            balance = event.balance_after_minor
            lines.append(_line(event, event.amount_minor, balance, _cause(event, requests)))
        elif isinstance(event, Customer.PaymentFailed):
            cause = {
                "purpose": event.purpose,
                "attempted_minor": event.attempted_minor,
                "decline_code": event.decline_code,
                **_rule(requests.get(str(event.payment_id))),
            }
            lines.append(_line(event, 0, balance, cause))
    return Explanation(balance, lines)


def _line(event: Any, delta: int, balance: int, cause: dict[str, Any]) -> Line:
    return Line(
        sequence=event.originator_version,
        type=type(event).__name__,
        recorded_at=event.timestamp,
        occurred_at=event.occurred_at,
        delta_minor=delta,
        balance_after_minor=balance,
        reference=_reference(event),
        caused_by=event.caused_by,
        cause=cause,
    )


def _reference(event: Any) -> str | None:
    for name in ("session_id", "package_code", "payment_id", "adjustment_id"):
        value = getattr(event, name, None)
        if value is not None:
            return str(value)
    return None


def _cause(event: Any, requests: dict[str, dict[str, Any]]) -> dict[str, Any]:
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
            **_rule(requests.get(str(event.payment_id))),
        }
    if isinstance(event, Customer.PrepaymentDebited):
        return {
            "package_code": event.package_code,
            "settled_by": event.settled_by,
            "period_start": event.period_start,
            "period_end": event.period_end,
        }
    if isinstance(event, Customer.PaymentTaken):
        return {"charge_id": event.charge_id, "debit_id": str(event.debit_id) if event.debit_id else None}
    if isinstance(event, Customer.AdjustmentRecorded):
        return {"reason": event.reason, "recorded_by": event.caused_by}
    return {}


def _rule(request: dict[str, Any] | None) -> dict[str, Any]:
    """The automatic top-up rule that triggered a payment, as recorded with its intent."""
    if not request or request.get("purpose") != "automatic_top_up":
        return {}
    return {
        "rule": "automatic top-up below threshold",
        "threshold_minor": request.get("threshold_minor"),
        "balance_at_trigger_minor": request.get("balance_at_trigger_minor"),
        "trigger_sequence": request.get("trigger_sequence"),
    }


def event_data(event: Any) -> dict[str, Any]:
    """An event's own fields for the history view; payment tokens are masked."""
    data = {}
    for name, value in event.__dict__.items():
        if name in HIDDEN_FIELDS:
            continue
        if name in REDACTED_FIELDS and isinstance(value, str):
            value = value[:4] + "…"
        if name == "details" and isinstance(value, dict):
            value = {
                k: (v[:4] + "…" if k in REDACTED_FIELDS and isinstance(v, str) else v)
                for k, v in value.items()
            }
        data[name] = value
    return data
