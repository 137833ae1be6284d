"""A customer's personal data is sealed with the customer's own key in every event, and erasing
it destroys the key: the history still reads, with None where the personal data was, and the
balance and every movement stay as they were."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.persistence import Mapper

from commands.messages import ChangeCustomer, ErasePersonalData
from domain.aggregates import Customer
from domain.errors import NotFound, ValidationFailed
from tests.unit.ledger_story import ACTOR, VISA, LedgerStory


@pytest.fixture
def story() -> LedgerStory:
    return LedgerStory()


def stored_bytes(story: LedgerStory, customer_id: object) -> bytes:
    return b"".join(stored.state for stored in story.services.ledger.recorder.select_events(customer_id))


def erase(story: LedgerStory, customer_id: object) -> None:
    story.do(ErasePersonalData(story.emp_id, customer_id, ACTOR))  # type: ignore[arg-type]


def test_personal_fields_are_stored_sealed_and_read_back_in_clear(story: LedgerStory) -> None:
    ann = story.customer(card=VISA)
    story.do(ChangeCustomer(story.emp_id, ann, {"email": "ann.new@example.com"}, ACTOR))

    raw = stored_bytes(story, ann)
    # Whole values only: ids and times may hold "4242" by chance.
    assert b"Ann Driver" not in raw and b"ann@example.com" not in raw and b'"4242"' not in raw
    customer = story.services.ledger.repository.get(ann)
    assert (customer.name, customer.email, customer.card.last4) == (
        "Ann Driver",
        "ann.new@example.com",
        "4242",
    )


def test_erasure_leaves_the_history_and_balance_but_no_personal_data(story: LedgerStory) -> None:
    ann = story.customer(card=VISA)
    story.top_up(ann, 2000)
    story.session(ann, 750)
    before = story.transactions(ann)

    erase(story, ann)

    history = story.history(ann)
    registered = history[0]
    assert isinstance(registered, Customer.Registered)
    assert (registered.name, registered.email, registered.account_type) == (None, None, "prepaid")
    card = next(e for e in history if isinstance(e, Customer.PaymentCardStored))
    assert (card.brand, card.last4, card.token) == (None, None, "tok_visa")
    assert isinstance(history[-1], Customer.PersonalDataErased)
    assert story.transactions(ann) == before
    assert story.balance(ann) == 1250
    replayed = story.services.ledger.repository.get(ann)  # from the events, not a cached copy
    assert (replayed.name, replayed.email, replayed.balance_minor) == (None, None, 1250)


def test_erasing_again_records_nothing_more(story: LedgerStory) -> None:
    ann = story.customer()
    erase(story, ann)
    length = len(story.history(ann))

    erase(story, ann)

    assert len(story.history(ann)) == length


def test_an_unknown_or_other_emps_customer_is_not_found(story: LedgerStory) -> None:
    other_emp = story.register_emp("Other EMP")
    bob = story.customer(emp_id=other_emp)
    with pytest.raises(NotFound):
        erase(story, uuid4())
    with pytest.raises(NotFound):
        erase(story, bob)


def test_an_erased_customer_takes_no_new_personal_details(story: LedgerStory) -> None:
    ann = story.customer()
    erase(story, ann)

    with pytest.raises(ValidationFailed) as refused:
        story.do(ChangeCustomer(story.emp_id, ann, {"name": "Ann Again"}, ACTOR))
    assert refused.value.field == "name"


def test_events_stored_before_sealing_read_as_stored(story: LedgerStory) -> None:
    """An event written by the library's plain mapper (the shape before this change)."""
    ledger = story.services.ledger
    ann = story.customer()
    plain = Mapper(transcoder=ledger.mapper.transcoder)
    changed = Customer.DetailsChanged(
        originator_id=ann,
        originator_version=2,
        timestamp=Customer.DetailsChanged.create_timestamp(),
        changes={"name": "Ann Plain"},
        occurred_at=story.clock.now(),
        caused_by=ACTOR,
    )
    ledger.recorder.insert_events([plain.to_stored_event(changed)])

    assert b"Ann Plain" in stored_bytes(story, ann)
    assert ledger.repository.get(ann).name == "Ann Plain"
