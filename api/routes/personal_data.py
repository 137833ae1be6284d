"""Erasure of a customer's personal data (docs/personal-data.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, delete
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.auth import emp_only
from api.context import ApiContext
from api.problems import problems
from commands.messages import ErasePersonalData
from projections.payments import PaymentsProjection
from projections.subscriptions import SubscriptionsProjection


@delete(
    "/v1/customers/{customer_id:uuid}/personal-data",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=204,
    tags=["customers"],
    responses=problems(404),
)
def erase_personal_data(
    customer_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> None:
    """Name, e-mail, billing details and card details go from every read model and become
    unreadable in the stored events (the customer's key is destroyed); balances, amounts,
    histories and the hash chains stay. A repeat is answered the same."""
    principal = request.user
    # The invoices' buyer details and the mail outbox are asynchronous models: waited for.
    reads = [SubscriptionsProjection.name, PaymentsProjection.name]
    ctx.execute(ErasePersonalData(principal.emp_id, customer_id, principal.actor), reads=reads)


ROUTES = [erase_personal_data]
