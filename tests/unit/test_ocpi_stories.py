"""A charge point operator's CDRs told as stories to the real write side in memory: mapped as the
contract says (exact decimals, markup half-even), recorded once through the session path, a
credit given back to whoever paid, a CDR of an unknown token parked until assigned."""

from __future__ import annotations

import copy
import json
import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import pytest

from api.ocpi import structs
from api.ocpi.envelope import Caller
from api.ocpi.routes import cdr_command
from commands.messages import AssignCdr, ChangeEmp, CreateOcpiParty, IssueToken, ReceiveCdr
from commands.ocpi import CdrReceived
from domain.errors import Duplicate, NotFound, SetUpRequired, ValidationFailed
from domain.ocpi import energy_wh, minor_units, with_markup
from tests.ocpi_cpo import EXAMPLES
from tests.unit.ledger_story import ACTOR, LedgerStory


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("4.40", "EUR", 440), ("4.4", "EUR", 440), ("4.4000", "EUR", 440), ("0", "EUR", 0),
     ("-2.20", "EUR", -220), ("1500", "JPY", 1500), ("1500.000", "JPY", 1500), ("1.234", "BHD", 1234)],
)  # fmt: skip
def test_amounts_become_minor_units_exactly(amount: str, currency: str, minor: int) -> None:
    assert minor_units(Decimal(amount), currency, "total_cost.incl_vat") == minor


@pytest.mark.parametrize(("amount", "currency"), [("4.405", "EUR"), ("0.001", "EUR"), ("1500.5", "JPY")])
def test_a_digit_beyond_the_minor_unit_is_refused(amount: str, currency: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        minor_units(Decimal(amount), currency, "total_cost.incl_vat")
    assert refused.value.field == "total_cost.incl_vat"


@pytest.mark.parametrize(
    ("kwh", "wh"), [("15.342", 15342), ("15.3425", 15342), ("15.3435", 15344), ("0.0005", 0), ("7", 7000)]
)
def test_energy_is_wh_rounded_half_even(kwh: str, wh: int) -> None:
    assert energy_wh(Decimal(kwh)) == wh


@pytest.mark.parametrize(
    ("cost", "markup_bp", "charged"),
    [
        (440, 0, 440),
        (440, 500, 462),
        (110, 500, 116),
        (130, 500, 136),
        (1, 5000, 2),
        (3, 5000, 4),
        (999, 1, 999),
    ],
)
def test_the_markup_is_rounded_half_even(cost: int, markup_bp: int, charged: int) -> None:
    # 110 + 5 % = 115.5 -> 116 (to even); 130 + 5 % = 136.5 -> 136; 1.5 -> 2; 4.5 -> 4.
    assert with_markup(cost, markup_bp) == charged


class OcpiStory(LedgerStory):
    """The story's EMP as an eMSP (FI*VLT), with one operator (NL*EXA) at a 5 % markup."""

    def __init__(self) -> None:
        super().__init__()
        self.do(ChangeEmp(self.emp_id, {"ocpi_country_code": "FI", "ocpi_party_id": "VLT"}, ACTOR))
        party = self.do(CreateOcpiParty(self.emp_id, "NL", "EXA", "Example Operator", 500, "a" * 64, ACTOR))
        self.caller = Caller(party.id, self.emp_id, "C", "token-c", "NL", "EXA", 500)

    def token(self, customer_id: UUID, uid: str) -> None:
        self.do(IssueToken(self.emp_id, customer_id, uid, "RFID", "FI-VLT-1", None, ACTOR))

    def command(self, cdr: dict[str, Any]) -> ReceiveCdr:
        body = json.dumps(cdr).encode()
        decoded = msgspec.json.decode(body, type=structs.Cdr, strict=True)
        return cdr_command(decoded, body, self.caller, "EUR")

    def push(self, cdr: dict[str, Any]) -> CdrReceived:
        received: CdrReceived = self.do(self.command(cdr))
        return received


def official(uid: str, **changes: Any) -> dict[str, Any]:
    cdr: dict[str, Any] = json.loads((EXAMPLES / "cdr_example.json").read_text())
    cdr.update({"country_code": "NL", "party_id": "EXA", "id": f"CDR-{uuid.uuid4().hex[:8]}", **changes})
    cdr["cdr_token"]["uid"] = uid
    return cdr


def test_the_official_cdr_becomes_the_token_holders_session_once() -> None:
    story = OcpiStory()
    ann = story.customer("postpaid")
    story.token(ann, "012345678")
    cdr = official("012345678")

    first = story.push(cdr)
    again = story.push(copy.deepcopy(cdr))

    assert first.id == again.id and first.customer_id == ann
    assert story.transactions(ann) == [("session", -462)]
    command = story.command(cdr)
    assert (command.session_id, command.energy_wh, command.cost_minor) == (f"NL*EXA*{cdr['id']}", 15342, 462)
    assert command.started_at.isoformat() == "2015-06-29T21:39:09+00:00"


def test_the_same_cdr_id_with_other_data_charges_nothing() -> None:
    story = OcpiStory()
    ann = story.customer("postpaid")
    story.token(ann, "T1")
    cdr = official("T1")
    story.push(cdr)

    with pytest.raises(Duplicate):
        story.push({**cdr, "remark": "corrected"})
    assert story.transactions(ann) == [("session", -462)]


def test_a_credit_cdr_gives_back_its_own_total_with_the_markup() -> None:
    story = OcpiStory()
    ann = story.customer("prepaid")
    story.token(ann, "T1")
    cdr = official("T1")
    story.push(cdr)
    credit = {**cdr, "id": cdr["id"] + "-C", "credit": True, "credit_reference_id": cdr["id"],
              "total_cost": {"excl_vat": -1.00, "incl_vat": -1.10}}  # fmt: skip

    story.push(credit)
    story.push(credit)  # again: credited once

    assert story.transactions(ann) == [("session", -462), ("session_credit", 116)]  # 1.10 + 5 % = 115.5
    assert story.balance(ann) == -346


def test_a_credit_for_an_unknown_cdr_records_nothing() -> None:
    story = OcpiStory()
    credit = official(
        "T1", credit=True, credit_reference_id="NOPE", total_cost={"excl_vat": -1, "incl_vat": -1.1}
    )
    with pytest.raises(ValidationFailed) as refused:
        story.push(credit)
    assert refused.value.field == "credit_reference_id"


def test_a_cdr_of_an_unknown_token_is_parked_then_assigned_once() -> None:
    story = OcpiStory()
    parked = story.push(official("NOBODY"))
    assert parked.customer_id is None
    bob = story.customer("postpaid")
    stranger = story.customer("postpaid", emp_id=story.register_emp("Other EMP"))

    with pytest.raises(NotFound):
        story.do(AssignCdr(story.emp_id, parked.id, stranger, ACTOR))
    story.do(AssignCdr(story.emp_id, parked.id, bob, ACTOR))
    with pytest.raises(Duplicate):
        story.do(AssignCdr(story.emp_id, parked.id, bob, ACTOR))
    assert story.transactions(bob) == [("session", -462)]


def test_a_wrong_currency_is_refused() -> None:
    story = OcpiStory()
    with pytest.raises(ValidationFailed) as refused:
        story.push(official("T1", currency="SEK"))
    assert refused.value.field == "currency"


def test_parties_need_the_emps_identity() -> None:
    story = LedgerStory()
    with pytest.raises(SetUpRequired) as refused:
        story.do(CreateOcpiParty(story.emp_id, "NL", "EXA", "Example", 0, "a" * 64, ACTOR))
    assert (refused.value.field, refused.value.status) == ("ocpi", 422)


def test_an_instant_without_a_zone_is_utc() -> None:
    story = OcpiStory()
    command = story.command(
        official("T1", start_date_time="2015-06-29T21:39:09", end_date_time="2015-06-29T23:37:32.5")
    )
    assert command.started_at.isoformat() == "2015-06-29T21:39:09+00:00"
    assert command.ended_at.isoformat() == "2015-06-29T23:37:32.500000+00:00"
