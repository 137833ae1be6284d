"""A customer's account: registered once per external reference, and a payment card whose
removal takes the consent to automatic top-up with it."""

from __future__ import annotations

import pytest

from commands.messages import RegisterCustomer, RemovePaymentCard
from commands.unit_of_work import Outcome
from domain.aggregates import Customer
from domain.errors import Duplicate, NotFound
from tests.unit.ledger_story import ACTOR, VISA, LedgerStory


@pytest.fixture
def story() -> LedgerStory:
    return LedgerStory()


def register(story: LedgerStory, external_ref: str | None, name: str = "Ann Driver") -> Outcome:
    registered: Outcome = story.do(
        RegisterCustomer(story.emp_id, name, "ann@example.com", "prepaid", external_ref, ACTOR)
    )
    return registered


def test_registering_the_same_external_ref_again_answers_the_same_customer(story: LedgerStory) -> None:
    first = register(story, "crm-1")
    again = register(story, "crm-1")
    other = register(story, "crm-2")

    assert (again.id, again.created) == (first.id, False)
    assert other.id != first.id


def test_an_external_ref_that_names_another_customer_is_refused(story: LedgerStory) -> None:
    register(story, "crm-1")
    with pytest.raises(Duplicate):
        register(story, "crm-1", name="Bob Driver")


def test_customers_without_an_external_ref_are_each_new(story: LedgerStory) -> None:
    assert register(story, None).id != register(story, None).id


def test_removing_the_card_withdraws_the_consent_first(story: LedgerStory) -> None:
    ann = story.customer(card=VISA, auto_top_up=True)

    story.do(RemovePaymentCard(story.emp_id, ann, ACTOR))

    last_two = story.history(ann)[-2:]
    assert [type(e) for e in last_two] == [Customer.AutoTopUpConsentWithdrawn, Customer.PaymentCardRemoved]
    assert last_two[0].reason == "payment card removed"


def test_removing_a_card_that_is_not_there_records_nothing(story: LedgerStory) -> None:
    ann = story.customer()
    before = story.history(ann)

    story.do(RemovePaymentCard(story.emp_id, ann, ACTOR))

    assert story.history(ann) == before


def test_another_emps_customer_is_not_found(story: LedgerStory) -> None:
    bob = story.customer(emp_id=story.register_emp("Other EMP"), card=VISA)
    with pytest.raises(NotFound):
        story.do(RemovePaymentCard(story.emp_id, bob, ACTOR))
    with pytest.raises(NotFound):
        story.top_up(bob, 1000)
