"""What the support page shows of a customer: the balance over time and why, the card, the
automatic top-up consent, subscriptions, dunning, invoices and credit notes - read from the same
read models as the API, in the EMP's time zone and in words support can read out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from api.context import ApiContext
from api.instants import parse_instant
from api.readable_names import decline_reason, event_name
from api.schemas import CustomerOut
from api.support_chart import balance_chart
from domain.errors import NotFound, ValidationFailed
from domain.explanation import Line, explain
from domain.money import format_amount
from domain.periods import Period, day_start, periods_from
from projections import queries


def customer_view(ctx: ApiContext, emp_id: UUID, customer_id: UUID, at: str | None) -> dict[str, Any]:
    """The customer page's content; `at` is the instant to explain (default: the EMP's now)."""
    row = queries.customer(ctx.pool, emp_id, customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    currency = row["currency"].strip()
    emp_now = ctx.services.now_for(emp_id)
    zone = ctx.services.ledger.get_emp(emp_id).zone
    instant = min(business_instant(at, zone) or emp_now, emp_now)
    explanation = explain(ctx.services.ledger.events.get(customer_id), as_of=instant)
    return {
        "customer": row,
        "currency": currency,
        "balance_now": format_amount(row["balance_minor"], currency),
        "chart": balance_chart(
            queries.balance_series(ctx.pool, customer_id), currency, instant, emp_now, zone
        ),
        "balance_at": format_amount(explanation.balance_minor, currency),
        "at_label": f"{instant.astimezone(zone).strftime('%Y-%m-%d %H:%M:%S')} ({zone.key})",
        "at_value": instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"),
        "time_zone": zone.key,
        "lines": [_line_view(line, currency, zone) for line in explanation.lines],
        **_account(row, currency, zone),
        "subscriptions": _subscriptions(ctx, emp_id, customer_id, currency, emp_now, zone),
        **_documents(ctx, emp_id, customer_id, zone),
    }


def _account(row: dict[str, Any], currency: str, zone: ZoneInfo) -> dict[str, Any]:
    """The card, the automatic top-up consent and, where the customer view has it, dunning."""
    customer = CustomerOut.from_row(row)
    card = customer.payment_card
    consent = customer.auto_top_up
    dunning = getattr(customer, "dunning", None)  # in the customer view once dunning is built
    return {
        "card": None
        if card is None
        else f"{card.brand.title()} ending in {card.last4}, expires {card.exp_month:02d}/{card.exp_year}",
        "auto_top_up": (
            f"on: {format_amount(consent.amount_minor or 0, currency)} whenever the balance falls below"
            f" {format_amount(consent.threshold_minor or 0, currency)}"
            if consent.enabled
            else "off (no consent given)"
        ),
        "dunning": None if dunning is None else _dunning_view(msgspec.to_builtins(dunning), currency, zone),
    }


def _dunning_view(dunning: dict[str, Any], currency: str, zone: ZoneInfo) -> dict[str, str]:
    since = dunning.get("since")
    return {
        "since": _day(datetime.fromisoformat(since), zone) if isinstance(since, str) else "",
        "step": str(dunning.get("step", "")).replace("_", " "),
        "overdue": format_amount(int(dunning.get("overdue_minor") or 0), currency),
        "blocked": "yes: charging is blocked" if dunning.get("blocked") else "no",
    }


def _subscriptions(
    ctx: ApiContext, emp_id: UUID, customer_id: UUID, currency: str, now: datetime, zone: ZoneInfo
) -> list[dict[str, Any]]:
    views = []
    for row in reversed(queries.customer_subscriptions(ctx.pool, emp_id, customer_id)):
        period = None if row["ended_at"] else _period_at(row["started_at"], row["billing_day"], now, zone)
        views.append(
            {
                "tariff": row["tariff"],
                "billing_day": row["billing_day"],
                "started": _day(row["started_at"], zone),
                "ended": _day(row["ended_at"], zone),
                "period": None
                if period is None
                else f"{_day(period.start, zone)} to {_day(period.end, zone)}",
                "packages": [
                    {
                        "code": package["code"],
                        "kind": package["kind"].replace("_", " "),
                        "recurring": package["recurring"],
                        "payment": package["payment"].replace("_", " "),
                        "price": format_amount(package["price_minor"], currency),
                        "status": package["status"],
                        "acquired": _day(package["acquired_at"], zone),
                    }
                    for package in row["packages"]
                ],
            }
        )
    return views


def _period_at(started_at: datetime, billing_day: int, now: datetime, zone: ZoneInfo) -> Period:
    """The billing period `now` falls in (the first one, for a subscription not started yet)."""
    for period in periods_from(0, day_start(started_at, zone), billing_day, zone):
        if period.end > now:
            return period
    raise AssertionError("unreachable")


def _documents(ctx: ApiContext, emp_id: UUID, customer_id: UUID, zone: ZoneInfo) -> dict[str, Any]:
    """The customer's invoices and credit notes, newest first (the first 500 of each)."""
    invoices = queries.invoices_page(ctx.pool, emp_id, customer_id=customer_id, limit=500, after=0)
    notes = queries.credit_notes_page(ctx.pool, emp_id, customer_id=customer_id, limit=500, after=0)
    return {
        "invoices": [
            {
                "id": row["id"],
                "number": row["number"],
                "issued": _day(row["issued_at"], zone),
                "due": _day(row["due_at"], zone),
                "status": row["status"],
                "total": format_amount(row["total_minor"], row["currency"].strip()),
                "open": format_amount(
                    max(row["total_minor"] - row["amount_paid_minor"] - row["credited_minor"], 0),
                    row["currency"].strip(),
                ),
            }
            for row in reversed(invoices)
        ],
        "credit_notes": [
            {
                "id": row["id"],
                "number": row["number"],
                "issued": _day(row["issued_at"], zone),
                "invoice_number": row["invoice_number"],
                "reason": row["reason"],
                "total": format_amount(row["total_minor"], row["currency"].strip()),
            }
            for row in reversed(notes)
        ],
    }


def _day(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d")


def business_instant(at: str | None, zone: ZoneInfo) -> datetime | None:
    """The form's instant: a wall-clock time in the EMP's time zone (what a browser's
    datetime-local field sends), or a full RFC 3339 instant."""
    if at and len(at) <= 19:
        try:
            local = datetime.fromisoformat(at)
        except ValueError:
            raise ValidationFailed("at: not a date and time (YYYY-MM-DDTHH:MM:SS)", field="at") from None
        return parse_instant(local.replace(tzinfo=zone).isoformat(), "at")
    return parse_instant(at, "at")


def _line_view(line: Line, currency: str, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "sequence": line.sequence,
        "type": event_name(line.type),
        "occurred": line.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "recorded": line.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cause": describe(line, currency),
        "caused_by": line.caused_by,
        "delta_minor": line.delta_minor,
        "delta": format_amount(line.delta_minor, currency),
        "balance_after_minor": line.balance_after_minor,
        "balance_after": format_amount(line.balance_after_minor, currency),
    }


def describe(line: Line, currency: str) -> str:
    """The cause of a movement in a sentence support can read out."""
    cause = line.cause
    if line.type == "SessionCredited":
        return f"credit by the charge point operator for session {cause['credited_session_id']}"
    if line.type == "SessionCharged":
        kwh = f"{cause['energy_wh'] // 1000}.{cause['energy_wh'] % 1000:03d} kWh"
        return f"charging session {cause['session_id']}, {kwh}" + (
            f" at {cause['location']}" if cause["location"] else ""
        )
    if line.type == "TopUpApplied" and cause.get("rule"):
        return (
            f"automatic top-up: the balance was {format_amount(cause['balance_at_trigger_minor'], currency)},"
            f" below the threshold of {format_amount(cause['threshold_minor'], currency)}"
        )
    if line.type == "TopUpApplied":
        return {"manual": "manual top-up by card", "package": "top-up package"}.get(
            cause.get("source", ""), "top-up"
        )
    if line.type == "PrepaymentDebited":
        return f"package {cause['package_code']}" + (
            " (paid from the balance)" if cause["settled_by"] == "balance" else ""
        )
    if line.type == "UnusedDaysCredited":
        return f"package {cause['package_code']} replaced: the unused days of its period credited"
    if line.type == "PaymentTaken":
        return "card payment"
    if line.type == "AdjustmentRecorded":
        return f"correction: {cause['reason']} (by {cause['recorded_by']})"
    if line.type == "PaymentFailed":
        what = "automatic top-up" if cause.get("purpose") == "automatic_top_up" else "payment"
        return (
            f"{what} of {format_amount(cause['attempted_minor'], currency)} failed:"
            f" {decline_reason(cause['decline_code'])}"
        )
    return event_name(line.type)
