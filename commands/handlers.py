"""One handler per command. Each loads, decides through the aggregate, saves, and says where.

A handler returns an `Outcome`: the id it acted on and the log position of what it recorded,
so the API can wait for the read models to reach that position (read-your-writes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from commands.application import Ledger, position_of
from commands.messages import (
    RegisterCustomer,
    RegisterEmp,
    RemovePaymentCard,
    SetAutoTopUp,
    StorePaymentCard,
)
from commands.ports import Clock, PaymentGateway
from domain.aggregates import AccountType, Customer, Emp
from domain.errors import Duplicate, PaymentDeclined

RETRIES = 8


@dataclass(frozen=True)
class Outcome:
    id: UUID
    position: int | None
    created: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Services:
    ledger: Ledger
    gateway: PaymentGateway
    clock: Clock


def retrying(attempt: Callable[[], Outcome]) -> Outcome:
    """Run attempt again after a concurrent writer won (optimistic concurrency), bounded."""
    for _ in range(RETRIES - 1):
        try:
            return attempt()
        except IntegrityError:
            continue
    return attempt()


def register_emp(cmd: RegisterEmp, services: Services) -> Outcome:
    emp = Emp.register(
        name=cmd.name,
        currency=cmd.currency,
        auto_top_up_threshold_minor=cmd.auto_top_up_threshold_minor,
        auto_top_up_amount_minor=cmd.auto_top_up_amount_minor,
        occurred_at=services.clock.now(),
        caused_by=cmd.actor,
    )
    return Outcome(emp.id, position_of(services.ledger.save(emp)))


def register_customer(cmd: RegisterCustomer, services: Services) -> Outcome:
    ledger = services.ledger
    emp = ledger.get_emp(cmd.emp_id)
    account_type = AccountType(cmd.account_type)

    def attempt() -> Outcome:
        if cmd.external_ref is not None:
            existing = ledger.find_customer(Customer.create_id(cmd.emp_id, cmd.external_ref))
            if existing is not None:
                return _same_registration(existing, cmd)
        customer = Customer(
            emp_id=emp.id,
            name=cmd.name,
            email=cmd.email,
            account_type=account_type.value,
            currency=emp.currency,
            external_ref=cmd.external_ref,
            auto_top_up_threshold_minor=emp.auto_top_up_threshold_minor,
            auto_top_up_amount_minor=emp.auto_top_up_amount_minor,
            occurred_at=services.clock.now(),
            caused_by=cmd.actor,
        )
        return Outcome(customer.id, position_of(ledger.save(customer)))

    return retrying(attempt)


def _same_registration(existing: Customer, cmd: RegisterCustomer) -> Outcome:
    same = (existing.name, existing.email, existing.account_type.value) == (
        cmd.name,
        cmd.email,
        cmd.account_type,
    )
    if not same:
        raise Duplicate(
            f"external_ref {cmd.external_ref!r} already names another customer",
            field="external_ref",
        )
    return Outcome(existing.id, None, created=False)


def store_payment_card(cmd: StorePaymentCard, services: Services) -> Outcome:
    ledger = services.ledger
    ledger.get_customer(cmd.customer_id, cmd.emp_id)  # not-found before talking to the gateway
    verification = services.gateway.verify_card(cmd.card.token)
    if not verification.approved:
        raise PaymentDeclined(
            f"the card was declined by the gateway ({verification.decline_code});"
            " nothing was stored"
        )

    def attempt() -> Outcome:
        customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
        customer.store_payment_card(cmd.card, occurred_at=services.clock.now(), caused_by=cmd.actor)
        return Outcome(customer.id, position_of(ledger.save(customer)), created=False)

    return retrying(attempt)


def remove_payment_card(cmd: RemovePaymentCard, services: Services) -> Outcome:
    def attempt() -> Outcome:
        customer = services.ledger.get_customer(cmd.customer_id, cmd.emp_id)
        customer.remove_payment_card(occurred_at=services.clock.now(), caused_by=cmd.actor)
        return Outcome(customer.id, position_of(services.ledger.save(customer)), created=False)

    return retrying(attempt)


def set_auto_top_up(cmd: SetAutoTopUp, services: Services) -> Outcome:
    def attempt() -> Outcome:
        customer = services.ledger.get_customer(cmd.customer_id, cmd.emp_id)
        now = services.clock.now()
        if cmd.enabled:
            customer.give_auto_top_up_consent(
                threshold_minor=cmd.threshold_minor,
                amount_minor=cmd.amount_minor,
                occurred_at=now,
                caused_by=cmd.actor,
            )
        else:
            customer.withdraw_auto_top_up_consent(
                reason="withdrawn by request", occurred_at=now, caused_by=cmd.actor
            )
        return Outcome(customer.id, position_of(services.ledger.save(customer)), created=False)

    return retrying(attempt)


HANDLERS: dict[type, Callable[[Any, Services], Outcome]] = {
    RegisterEmp: register_emp,
    RegisterCustomer: register_customer,
    StorePaymentCard: store_payment_card,
    RemovePaymentCard: remove_payment_card,
    SetAutoTopUp: set_auto_top_up,
}


def handle(command: object, services: Services) -> Outcome:
    return HANDLERS[type(command)](command, services)
