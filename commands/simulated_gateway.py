"""A payment gateway that behaves like a PSP in test mode, with its own record of charges.

It follows Stripe's test tokens and honours idempotency keys: the same key never charges twice,
even across processes, because the key is the primary key of its charges table.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable

from psycopg_pool import ConnectionPool

from commands.ports import CardSetup, CardVerification, ChargeResult, PayingCustomer
from domain.errors import SetUpRequired

# token -> decline code when attaching (None: attaches)
ATTACH_RULES: dict[str, str | None] = {
    "tok_visa": None,
    "tok_visa_debit": None,
    "tok_mastercard": None,
    "tok_mastercard_debit": None,
    "tok_amex": None,
    "tok_chargeCustomerFail": None,
    # Attaches here, then each charge is a hard decline (dunning retries it no more).
    "tok_chargeDeclinedExpiredCard": None,
    "tok_chargeDeclined": "card_declined",
    "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "tok_authenticationRequired": None,
}
# token -> decline code when charging
CHARGE_DECLINES: dict[str, str] = {
    "tok_chargeDeclined": "card_declined",
    "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "tok_chargeCustomerFail": "card_declined",
    "tok_chargeDeclinedExpiredCard": "expired_card",
    # Off-session charges that the bank wants confirmed (Stripe's 4000002760003184).
    "tok_authenticationRequired": "authentication_required",
}


# Seconds a charge takes after the charge is recorded on the card's side: for crash tests, which
# kill the process while the card is charged and the outcome not yet recorded. Default 0.
DELAY_VARIABLE = "CHARGELEDGER_SIMULATED_GATEWAY_DELAY_SECONDS"


def decline_of_charge(token: str) -> str | None:
    """The decline a charge on this token gets (None: approved)."""
    if token not in ATTACH_RULES:
        return "no_such_token"
    return CHARGE_DECLINES.get(token)


def verification_of(token: str) -> CardVerification:
    if token not in ATTACH_RULES:
        return CardVerification(approved=False, decline_code="no_such_token")
    decline = ATTACH_RULES[token]
    return CardVerification(approved=decline is None, decline_code=decline)


def no_card_setup() -> CardSetup:
    raise SetUpRequired(
        "card setup by Stripe.js needs CHARGELEDGER_PAYMENT_GATEWAY=stripe; with the simulated"
        " gateway store a test token (tok_visa) with PUT /v1/customers/{id}/payment-card",
        field="payment_gateway",
    )


class SimulatedGateway:
    def __init__(self, pool: ConnectionPool, *, delay_seconds: float | None = None) -> None:
        self._pool = pool
        self.delay_seconds = (
            float(os.environ.get(DELAY_VARIABLE) or 0) if delay_seconds is None else delay_seconds
        )

    def verify_card(self, token: str, *, customer: PayingCustomer) -> CardVerification:
        return verification_of(token)

    def start_card_setup(self, *, customer: PayingCustomer) -> CardSetup:
        return no_card_setup()

    def charge(
        self, *, token: str, amount_minor: int, currency: str, idempotency_key: str, **_: object
    ) -> ChargeResult:
        decline = decline_of_charge(token)
        charge_id = f"ch_{uuid.uuid4().hex[:24]}"
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO gateway_charges"
                " (idempotency_key, charge_id, token, amount_minor, currency, approved,"
                " decline_code)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING",
                (
                    idempotency_key,
                    charge_id,
                    token,
                    amount_minor,
                    currency,
                    decline is None,
                    decline,
                ),
            )
            row = conn.execute(
                "SELECT charge_id, approved, decline_code FROM gateway_charges WHERE idempotency_key = %s",
                (idempotency_key,),
            ).fetchone()
        assert row is not None
        if self.delay_seconds > 0:
            time.sleep(self.delay_seconds)
        return ChargeResult(approved=row[1], charge_id=row[0], decline_code=row[2])


class InMemoryGateway:
    """The same test tokens in memory, for the write side run without a database (stories and
    the seeded simulation). `declines` may decline any charge besides the token's own rule
    (a card that fails at random); every charge is kept, by idempotency key."""

    def __init__(self, declines: Callable[[str], str | None] | None = None) -> None:
        self.declines = declines
        self.charges: dict[str, tuple[ChargeResult, int]] = {}
        self.attempts: list[str] = []  # every idempotency key charged, repeats included

    def verify_card(self, token: str, *, customer: PayingCustomer) -> CardVerification:
        return verification_of(token)

    def start_card_setup(self, *, customer: PayingCustomer) -> CardSetup:
        return no_card_setup()

    def charge(
        self, *, token: str, amount_minor: int, currency: str, idempotency_key: str, **_: object
    ) -> ChargeResult:
        self.attempts.append(idempotency_key)
        if idempotency_key not in self.charges:
            decline = decline_of_charge(token) or (self.declines(token) if self.declines else None)
            result = ChargeResult(decline is None, f"ch_{uuid.uuid4().hex[:24]}", decline)
            self.charges[idempotency_key] = (result, amount_minor)
        return self.charges[idempotency_key][0]
