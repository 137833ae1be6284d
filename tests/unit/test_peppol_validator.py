"""The validator the document tests rely on: it accepts Peppol's own examples and catches an
invoice whose payable amount is off by a cent (BR-CO-16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peppol.validator import assertions, fatal_problems

EXAMPLES = sorted((Path(__file__).parents[1] / "peppol" / "examples").glob("*.xml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_the_official_examples_pass_the_official_rules(example: Path) -> None:
    assert fatal_problems(example.read_bytes()) == []


def test_a_payable_amount_off_by_a_cent_breaks_br_co_16() -> None:
    document = (EXAMPLES[0].parent / "base-example.xml").read_bytes()
    tampered = document.replace(
        b'<cbc:PayableAmount currencyID="EUR">1656.25<', b'<cbc:PayableAmount currencyID="EUR">1656.26<'
    )
    assert tampered != document
    fatal = {a.rule for a in assertions(tampered) if a.flag == "fatal"}
    assert "BR-CO-16" in fatal
