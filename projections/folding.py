"""Text folded for search: what a person types finds "Zoë Ångström" as "zoe angstrom".

NFKD splits letters from their accents (and compatibility forms such as "ﬁ" into "fi"); the
accents are dropped and the rest case-folded ("ß" -> "ss"). Written in the customers read model
beside the text it folds, and applied to the search term alike."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
