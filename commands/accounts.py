"""Handlers for EMPs and customers: registration, payment card, automatic top-up consent."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from eventsourcing.persistence import IntegrityError, Recording

from commands.application import Ledger, position_of
from commands.dunning import retry_overdue_debits
from commands.messages import (
    ChangeEmp,
    RegisterCustomer,
    RegisterEmp,
    RemovePaymentCard,
    SetAutoTopUp,
    StartCardSetup,
    StorePaymentCard,
)
from commands.ports import PayingCustomer
from commands.unit_of_work import CardSetupStarted, Outcome, Services, retrying
from domain.aggregates import AccountType, Customer, Emp, PaymentCard
from domain.cards import check_not_expired
from domain.errors import Duplicate, PaymentDeclined, ValidationFailed


def register_emp(cmd: RegisterEmp, services: Services) -> Outcome:
    emp = Emp.register(
        name=cmd.name,
        currency=cmd.currency,
        auto_top_up_threshold_minor=cmd.auto_top_up_threshold_minor,
        auto_top_up_amount_minor=cmd.auto_top_up_amount_minor,
        vat_rate_bp=cmd.vat_rate_bp,
        time_zone=cmd.time_zone,
        test_clock_now=cmd.test_clock_now,
        ocpi_country_code=cmd.ocpi_country_code,
        ocpi_party_id=cmd.ocpi_party_id,
        occurred_at=cmd.test_clock_now or services.clock.now(),
        caused_by=cmd.actor,
    )
    return Outcome(emp.id, position_of(services.ledger.save(emp)))


def change_emp(cmd: ChangeEmp, services: Services) -> Outcome:
    def attempt() -> Outcome:
        emp = services.ledger.get_emp(cmd.emp_id)
        emp.change(cmd.changes, occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor)
        return Outcome(
            emp.id, position_of(services.ledger.save(emp)) if emp.pending_events else None, created=False
        )

    return retrying(attempt)


def register_customer(cmd: RegisterCustomer, services: Services) -> Outcome:
    ledger = services.ledger
    emp = ledger.get_emp(cmd.emp_id)
    if cmd.account_type not in AccountType.ALL:
        raise ValidationFailed("account_type must be prepaid or postpaid", field="account_type")

    def attempt() -> Outcome:
        if cmd.external_ref is not None:
            existing = ledger.find_customer(Customer.create_id(cmd.emp_id, cmd.external_ref))
            if existing is not None:
                return _same_registration(existing, cmd)
        customer = Customer(
            emp_id=emp.id,
            name=cmd.name,
            email=cmd.email,
            account_type=cmd.account_type,
            currency=emp.currency,
            external_ref=cmd.external_ref,
            auto_top_up_threshold_minor=emp.auto_top_up_threshold_minor,
            auto_top_up_amount_minor=emp.auto_top_up_amount_minor,
            occurred_at=services.now_for(emp.id),
            caused_by=cmd.actor,
        )
        return Outcome(customer.id, position_of(save_customer(ledger, customer, cmd.external_ref)))

    return retrying(attempt)


# The accounts read model, written in the save's transaction, keeps an EMP's external
# references unique (migrations/0002): a registration derives the customer's id from its
# reference, but a reference changed later (`PATCH /v1/customers/{id}`) is held only there.
EXTERNAL_REF_INDEX = "customers_emp_external_ref"


def save_customer(ledger: Ledger, customer: Customer, external_ref: Any) -> list[Recording[Any]]:
    """Save the customer's new events; a reference another customer of the EMP holds is a
    duplicate (409), never a conflict to retry. Any other conflict is retried by the caller."""
    try:
        return ledger.save(customer)
    except IntegrityError as error:
        if EXTERNAL_REF_INDEX in str(error):
            raise Duplicate(
                f"external_ref {external_ref!r} already names another customer", field="external_ref"
            ) from None
        raise


def _same_registration(existing: Customer, cmd: RegisterCustomer) -> Outcome:
    same = (existing.name, existing.email, existing.account_type) == (
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
    # Not-found before talking to the gateway.
    paying = PayingCustomer.of(ledger.get_customer(cmd.customer_id, cmd.emp_id))
    card = verify_card(services, cmd.card, paying)

    def attempt() -> tuple[Outcome, Customer]:
        customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
        customer.store_payment_card(card, occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor)
        return Outcome(customer.id, position_of(ledger.save(customer)), created=False), customer

    stored, customer = retrying(attempt)
    # A new card pays what is overdue right away (once per card stored: the key is its version).
    now = services.now_for(cmd.emp_id)
    retry_overdue_debits(services, customer, now, f"new-card:{customer.version}", cmd.actor)
    return stored


def start_card_setup(cmd: StartCardSetup, services: Services) -> CardSetupStarted:
    paying = PayingCustomer.of(services.ledger.get_customer(cmd.customer_id, cmd.emp_id))
    setup = services.gateway.start_card_setup(customer=paying)
    return CardSetupStarted(
        cmd.customer_id,
        None,
        created=True,
        setup_intent_id=setup.setup_intent_id,
        client_secret=setup.client_secret,
    )


def verify_card(services: Services, card: PaymentCard, customer: PayingCustomer) -> PaymentCard:
    """A card is attached at the gateway before it is stored: a declined or expired one never
    is. The card as stored: its details as the gateway read them, else as the request gave."""
    verification = services.gateway.verify_card(card.token, customer=customer)
    if not verification.approved:
        raise PaymentDeclined(
            f"the card was declined by the gateway ({verification.decline_code}); nothing was stored"
        )
    if verification.details is not None:
        card = PaymentCard(verification.token or card.token, **asdict(verification.details))
    for name in ("brand", "last4", "exp_month", "exp_year"):
        if not getattr(card, name):
            raise ValidationFailed(f"{name} is required with this payment gateway", field=name)
    check_not_expired(card.exp_month, card.exp_year, services.now_for(customer.emp_id))
    return card


def remove_payment_card(cmd: RemovePaymentCard, services: Services) -> Outcome:
    def attempt() -> Outcome:
        customer = services.ledger.get_customer(cmd.customer_id, cmd.emp_id)
        customer.remove_payment_card(occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor)
        return Outcome(customer.id, position_of(services.ledger.save(customer)), created=False)

    return retrying(attempt)


def set_auto_top_up(cmd: SetAutoTopUp, services: Services) -> Outcome:
    def attempt() -> Outcome:
        customer = services.ledger.get_customer(cmd.customer_id, cmd.emp_id)
        now = services.now_for(cmd.emp_id)
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
