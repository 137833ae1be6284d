"""The text patterns request fields must match, and what each means in words: an error names
the rule a person can follow, never the regular expression."""

from __future__ import annotations

import re


def whole(pattern: str) -> str:
    """The pattern as a whole string. msgspec matches with Python's `re`, whose `$` also matches
    before a final newline, and JSON Schema's `$` does not: the lookahead makes both refuse it."""
    return f"^(?:{pattern})$(?!\\n)"


# PostgreSQL text cannot hold NUL: one in a recorded event would stop the read models for everyone.
NO_NUL = r"^[^\x00]*$"
# No "@", dot, space or control character in a domain label, spelt so that Python's regex dialect
# and JSON Schema's (ECMA) mean the same characters by it, as their `\s` alone do not.
_LOCAL = r"[^@\s\x00-\x1f\x7f-\x9f\ufeff]+"
_LABEL = r"[^@.\s\x00-\x1f\x7f-\x9f\ufeff]+"
EMAIL = whole(f"{_LOCAL}@{_LABEL}(?:\\.{_LABEL})+")
CURRENCY = whole("[A-Z]{3}")
CARD_TOKEN = whole("(tok|pm)_[A-Za-z0-9_]{1,100}")
LAST4 = whole("[0-9]{4}")
CODE = whole("[A-Za-z0-9][A-Za-z0-9_.-]*")
# Something besides blanks and separators.
REASON = r"^[^\x00]*[^\s\x00\x1c-\x1f\x85\ufeff][^\x00]*$"
# A name on one line (who holds a key: it is printed in histories): no control character.
_PRINTABLE = r"[^\x00-\x1f\x7f-\x9f]"
HOLDER = whole(rf"{_PRINTABLE}*[^\s\x00-\x1f\x7f-\x9f\ufeff]{_PRINTABLE}*")

MEANINGS = {
    NO_NUL: "must not contain a NUL character",
    EMAIL: "must be an e-mail address: a name, '@' and a domain with a dot (ann@example.com)",
    CURRENCY: "must be an ISO 4217 code of three capital letters (EUR)",
    CARD_TOKEN: "must be a card token from the payment gateway (tok_visa, pm_card_visa)",
    LAST4: "must be the card number's last four digits (4242)",
    CODE: "must start with a letter or digit and hold only letters, digits, '_', '.' and '-'",
    REASON: "must say something: not only blanks",
    HOLDER: "must be a name on one line: no control characters, not only blanks",
}

_MISMATCH = re.compile(r"Expected `str` matching regex '(?P<pattern>.*)'", re.DOTALL)


def readable(message: str) -> str:
    """A msgspec validation message with any regular expression replaced by what it means."""
    match = _MISMATCH.search(message)
    if match is None:
        return message
    # msgspec shows the pattern as Python's repr of the string.
    shown = match.group("pattern").encode().decode("unicode_escape")
    meaning = MEANINGS.get(shown, "is not in the form this field takes")
    return message[: match.start()] + meaning + message[match.end() :]
