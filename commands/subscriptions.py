"""Subscriptions and their packages: start with a base package, purchase, cancel."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID, uuid5

from commands.application import position_of
from commands.card_payments import pay_by_card
from commands.messages import CancelPackage, PurchasePackage, StartSubscription
from commands.unit_of_work import Outcome, Services, retrying
from domain.aggregates import PackageTerms, Subscription
from domain.errors import Duplicate, PaymentDeclined
from domain.packages import PackageKind
from domain.payments import PurchaseCharge


def start_subscription(cmd: StartSubscription, services: Services) -> Outcome:
    ledger = services.ledger
    customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
    base = ledger.package_terms(cmd.emp_id, cmd.base_package)
    if ledger.find_subscription(Subscription.create_id(customer.id)) is not None:
        raise Duplicate("this customer already has a subscription", field="customer_id")
    subscription = Subscription.start(
        emp_id=cmd.emp_id,
        customer_id=customer.id,
        tariff=customer.account_type,
        base=base,
        billing_day=cmd.billing_day,
        occurred_at=services.clock.now(),
        caused_by=cmd.actor,
    )
    return Outcome(subscription.id, position_of(ledger.save(subscription)))


def purchase_package(cmd: PurchasePackage, services: Services) -> Outcome:
    """Seed 003: recurring bolt-ons are paid later (jobs, invoice); a non-recurring bolt-on
    is paid up front (prepaid: balance; postpaid: card); a top-up is paid by card and
    credits the balance."""
    ledger = services.ledger
    subscription = ledger.get_subscription(cmd.subscription_id, cmd.emp_id)
    terms = ledger.package_terms(cmd.emp_id, cmd.package)
    subscription.check_purchase(terms)
    instance_id = (
        uuid5(subscription.id, f"{cmd.actor}:{cmd.request_key}") if cmd.request_key else uuid.uuid4()
    )
    if str(instance_id) in subscription.packages:
        return Outcome(instance_id, None, created=False)
    paid_by_card = terms.kind == PackageKind.TOP_UP or (
        not terms.recurring and subscription.tariff == "postpaid"
    )
    if paid_by_card and terms.price_minor > 0:
        return _purchase_by_card(cmd, services, subscription, terms, instance_id)

    def attempt() -> Outcome:
        current = ledger.get_subscription(cmd.subscription_id, cmd.emp_id)
        if str(instance_id) in current.packages:
            return Outcome(instance_id, None, created=False)
        now = services.clock.now()
        changed: list[Any] = [current]
        if not terms.recurring and terms.price_minor > 0:
            customer = ledger.get_customer(current.customer_id, cmd.emp_id)
            customer.debit_from_balance(
                debit_id=uuid5(instance_id, "debit"),
                subscription_id=current.id,
                package_instance_id=instance_id,
                package_code=terms.code,
                amount_minor=terms.price_minor,
                occurred_at=now,
                caused_by=cmd.actor,
            )
            changed.append(customer)
        current.record_acquisition(terms, occurred_at=now, caused_by=cmd.actor, instance_id=instance_id)
        return Outcome(instance_id, position_of(ledger.save(*changed)))

    return retrying(attempt)


def _purchase_by_card(
    cmd: PurchasePackage,
    services: Services,
    subscription: Subscription,
    terms: PackageTerms,
    instance_id: UUID,
) -> Outcome:
    charge = PurchaseCharge(terms.price_minor, subscription.id, instance_id, terms)
    payment_id = uuid5(instance_id, "payment")
    completed = pay_by_card(services, cmd.emp_id, subscription.customer_id, payment_id, charge, cmd.actor)
    if not completed.approved:
        raise PaymentDeclined(f"the card payment for package {terms.code!r} was declined")
    return Outcome(instance_id, completed.position)


def cancel_package(cmd: CancelPackage, services: Services) -> Outcome:
    def attempt() -> Outcome:
        subscription = services.ledger.get_subscription(cmd.subscription_id, cmd.emp_id)
        subscription.cancel(cmd.package_instance_id, occurred_at=services.clock.now(), caused_by=cmd.actor)
        return Outcome(
            cmd.package_instance_id,
            position_of(services.ledger.save(subscription)),
            created=False,
        )

    return retrying(attempt)
