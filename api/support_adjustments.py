"""The support page's correction form: an amount typed in the currency ("4.50", "-12"), read
exactly as a Decimal, and a reason, recorded by the same command and rules as
POST /v1/customers/{id}/adjustments. Each mistake is shown beside the field it is about."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from uuid import UUID, uuid4

import msgspec

from api.context import ApiContext
from api.field_patterns import readable
from api.keys import Principal
from api.problems import field_from_message
from api.schemas import AdjustmentIn
from commands.messages import RecordAdjustment
from commands.unit_of_work import BalanceChanged
from domain.errors import DomainError, NotFound
from domain.money import format_amount
from domain.ocpi import minor_units
from projections import queries

# The API's field names, as the form calls them.
FORM_FIELDS = {"amount_minor": "amount", "reason": "reason"}


@dataclass(frozen=True)
class AdjustmentForm:
    # Sent back with the form: the same form sent twice records one correction.
    form_key: str
    amount: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    recorded: str | None = None  # what was recorded, and the balance now


def record_from_form(
    ctx: ApiContext, principal: Principal, customer_id: UUID, fields: dict[str, str]
) -> AdjustmentForm:
    """Record the correction the form asks for; the form again, with what was recorded or what
    is wrong with it."""
    assert principal.emp_id is not None
    row = queries.customer(ctx.pool, principal.emp_id, customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    currency = row["currency"].strip()
    form = AdjustmentForm(
        form_key=_form_key(fields.get("form_key", "")),
        amount=fields.get("amount", "").strip(),
        reason=fields.get("reason", ""),
    )
    errors: dict[str, str] = {}
    amount_minor = 0
    try:
        amount_minor = minor_units(Decimal(form.amount), currency, "amount")
    except InvalidOperation:
        errors["amount"] = f"amount: enter an amount in {currency}, such as 4.50 or -4.50"
    except DomainError as error:
        errors["amount"] = error.detail
    if not form.reason.strip():
        errors["reason"] = "reason: say why the balance is corrected"
    if errors:
        return replace(form, errors=errors)
    try:
        data = msgspec.convert({"amount_minor": amount_minor, "reason": form.reason}, AdjustmentIn)
        outcome = ctx.execute(
            RecordAdjustment(
                emp_id=principal.emp_id,
                customer_id=customer_id,
                amount_minor=data.amount_minor,
                reason=data.reason,
                actor=principal.actor,
                request_key=form.form_key,
            ),
            BalanceChanged,
        )
    except msgspec.ValidationError as error:
        name = field_from_message(str(error)) or "amount_minor"
        message = readable(str(error)).split(" - at ", 1)[0]
        return replace(
            form, errors={FORM_FIELDS.get(name, "amount"): f"{FORM_FIELDS.get(name, name)}: {message}"}
        )
    except DomainError as error:
        if error.field not in FORM_FIELDS:
            raise
        return replace(
            form, errors={FORM_FIELDS[error.field]: error.detail.replace("amount_minor", "amount")}
        )
    sign = "+" if amount_minor > 0 else ""
    return AdjustmentForm(
        form_key=str(uuid4()),
        recorded=(
            f"Recorded {sign}{format_amount(amount_minor, currency)} ({data.reason.strip()})."
            f" The balance is now {format_amount(outcome.balance_minor, currency)}."
        ),
    )


def _form_key(sent: str) -> str:
    try:
        return str(UUID(sent))
    except ValueError:
        return str(uuid4())
