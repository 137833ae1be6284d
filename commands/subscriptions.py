"""Subscriptions and their packages: start with a base package, purchase, cancel."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID, uuid5

from commands.application import position_of
from commands.card_payments import pay_by_card
from commands.messages import (
    CancelPackage,
    ChangeBasePackage,
    EndSubscription,
    PurchasePackage,
    StartSubscription,
)
from commands.unit_of_work import Outcome, Services, retrying
from domain.aggregates import PackageTerms, Subscription
from domain.errors import Duplicate, InvalidPeriod, PaymentDeclined
from domain.packages import PackageKind
from domain.payments import PurchaseCharge


def start_subscription(cmd: StartSubscription, services: Services) -> Outcome:
    """A subscription starts now or at `started_at` in the past (the jobs then catch up every
    period due since); a customer has one at a time, the next once the last has ended."""
    ledger = services.ledger
    customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
    base = ledger.package_terms(cmd.emp_id, cmd.base_package)
    now = services.now_for(cmd.emp_id)
    started_at = cmd.started_at or now
    if started_at > now:
        raise InvalidPeriod("started_at: a subscription cannot start in the future", field="started_at")
    generation = 0
    while (existing := ledger.find_subscription(Subscription.create_id(customer.id, generation))) is not None:
        if existing.ended_at is None or existing.ended_at > started_at:
            until = "" if existing.ended_at is None else f" until {existing.ended_at.isoformat()}"
            raise Duplicate(
                f"this customer has subscription {existing.id}{until}: end it first", field="customer_id"
            )
        generation += 1
    subscription = Subscription.start(
        emp_id=cmd.emp_id,
        customer_id=customer.id,
        tariff=customer.account_type,
        base=base,
        billing_day=cmd.billing_day,
        zone=ledger.get_emp(cmd.emp_id).zone,
        occurred_at=started_at,
        caused_by=cmd.actor,
        generation=generation,
    )
    return Outcome(subscription.id, position_of(ledger.save(subscription)))


def end_subscription(cmd: EndSubscription, services: Services) -> Outcome:
    def attempt() -> Outcome:
        subscription = services.ledger.get_subscription(cmd.subscription_id, cmd.emp_id)
        now = services.now_for(cmd.emp_id)
        subscription.end(cmd.at or now, now=now, occurred_at=now, caused_by=cmd.actor)
        return Outcome(subscription.id, position_of(services.ledger.save(subscription)), created=False)

    return retrying(attempt)


def change_base_package(cmd: ChangeBasePackage, services: Services) -> Outcome:
    ledger = services.ledger
    terms = ledger.package_terms(cmd.emp_id, cmd.package)
    zone = ledger.get_emp(cmd.emp_id).zone

    def attempt() -> Outcome:
        subscription = ledger.get_subscription(cmd.subscription_id, cmd.emp_id)
        now = services.now_for(cmd.emp_id)
        subscription.change_base_package(terms, cmd.at or now, zone=zone, now=now, caused_by=cmd.actor)
        return Outcome(subscription.id, position_of(ledger.save(subscription)), created=False)

    return retrying(attempt)


def purchase_package(cmd: PurchasePackage, services: Services) -> Outcome:
    """Seed 003: recurring bolt-ons are paid later (jobs, invoice); a non-recurring bolt-on
    is paid up front (prepaid: balance; postpaid: card); a top-up is paid by card and
    credits the balance."""
    ledger = services.ledger
    subscription = ledger.get_subscription(cmd.subscription_id, cmd.emp_id)
    terms = ledger.package_terms(cmd.emp_id, cmd.package)
    subscription.check_purchase(terms, services.now_for(cmd.emp_id))
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
        now = services.now_for(cmd.emp_id)
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
        zone = ledger.get_emp(cmd.emp_id).zone
        current.record_acquisition(
            terms, zone=zone, occurred_at=now, caused_by=cmd.actor, instance_id=instance_id
        )
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
        subscription.cancel(
            cmd.package_instance_id, occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor
        )
        return Outcome(
            cmd.package_instance_id,
            position_of(services.ledger.save(subscription)),
            created=False,
        )

    return retrying(attempt)
