"""Search text folding: case, accents and compatibility forms fold alike (projections/folding.py)."""

from __future__ import annotations

import pytest

from projections.folding import fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Zoë Ångström", "zoe angstrom"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
        ("ﬁnn", "finn"),
        ("Renée Dvořák", "renee dvorak"),
        ("ANN@Example.COM", "ann@example.com"),
    ],
)
def test_text_folds_as_a_person_would_type_it(text: str, folded: str) -> None:
    assert fold(text) == folded
