"""Full card numbers (PANs) never enter the ledger: any field holding one is refused."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from api.asgi import BodyTooLarge, read_body, replay, send_problem

# 13 to 19 digits, optionally grouped by spaces or dashes, as cards are written; a run that
# is part of a longer token (a UUID's digit groups, a reference) is not a card number.
PAN_LIKE = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_card_number(value: Any, path: str = "") -> str | None:
    """The path of the first string field that holds a card number, if any."""
    if isinstance(value, str):
        for match in PAN_LIKE.finditer(value):
            if luhn_valid(re.sub(r"[ -]", "", match.group())):
                return path or "body"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_card_number(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = find_card_number(item, f"{path}[{index}]")
            if found:
                return found
    return None


class CardNumberGuard:
    """ASGI middleware: a request body with a card number in any string is refused whole."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # OCPI bodies come from charge point operators and carry RFID numbers, never cards.
        ocpi = scope["type"] == "http" and scope["path"].startswith("/ocpi/")
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH") or ocpi:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive)
        except BodyTooLarge as error:
            await send_problem(
                send, scope, 413, "payload-too-large", "The request body is too large", str(error)
            )
            return
        field = None
        if body:
            try:
                field = find_card_number(msgspec.json.decode(body))
            except msgspec.DecodeError:
                field = None  # the body decoder names that error
            except (UnicodeDecodeError, RecursionError) as error:
                # msgspec raises these past DecodeError; a body nobody can read could hide a card.
                reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
                await send_problem(
                    send,
                    scope,
                    400,
                    "validation-error",
                    "The request is not valid",
                    f"body: not valid JSON ({reason})",
                    errors=[{"field": "body", "message": "not valid JSON"}],
                )
                return
        if field:
            await send_problem(
                send,
                scope,
                400,
                "validation-error",
                "The request is not valid",
                f"{field}: looks like a full card number; send a gateway token instead",
                errors=[{"field": field, "message": "looks like a full card number"}],
            )
            return
        await self.app(scope, replay(body), send)
