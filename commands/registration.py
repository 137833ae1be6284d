"""The registration site's flow (seed 000): customer, card, consent and subscription are
recorded together in one transaction, or nothing is."""

from __future__ import annotations

from typing import Any

from commands.accounts import verify_card
from commands.application import position_of
from commands.messages import Register
from commands.ports import PayingCustomer
from commands.unit_of_work import Registered, Services
from domain.aggregates import AccountType, Customer, Subscription
from domain.errors import ValidationFailed


def register(cmd: Register, services: Services) -> Registered:
    ledger = services.ledger
    emp = ledger.get_emp(cmd.emp_id)
    if cmd.account_type not in AccountType.ALL:
        raise ValidationFailed("account_type must be prepaid or postpaid", field="account_type")
    base = ledger.package_terms(cmd.emp_id, cmd.base_package) if cmd.base_package else None
    now = services.now_for(cmd.emp_id)
    customer = Customer(
        emp_id=emp.id,
        name=cmd.name,
        email=cmd.email,
        account_type=cmd.account_type,
        currency=emp.currency,
        external_ref=None,
        auto_top_up_threshold_minor=emp.auto_top_up_threshold_minor,
        auto_top_up_amount_minor=emp.auto_top_up_amount_minor,
        occurred_at=now,
        caused_by=cmd.actor,
    )
    if cmd.card is not None:
        card = verify_card(services, cmd.card, PayingCustomer.of(customer))
        customer.store_payment_card(card, occurred_at=now, caused_by=cmd.actor)
    if cmd.auto_top_up:
        customer.give_auto_top_up_consent(
            threshold_minor=None, amount_minor=None, occurred_at=now, caused_by=cmd.actor
        )
    changed: list[Any] = [customer]
    subscription_id = None
    if base is not None:
        subscription = Subscription.start(
            emp_id=emp.id,
            customer_id=customer.id,
            tariff=cmd.account_type,
            base=base,
            billing_day=None,
            zone=emp.zone,
            occurred_at=now,
            caused_by=cmd.actor,
        )
        changed.append(subscription)
        subscription_id = subscription.id
    position = position_of(ledger.save(*changed))
    return Registered(customer.id, position, subscription_id=subscription_id)
