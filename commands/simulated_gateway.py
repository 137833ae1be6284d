"""A payment gateway that behaves like a PSP in test mode, with its own record of charges.

It follows Stripe's test tokens and honours idempotency keys: the same key never charges twice,
even across processes, because the key is the primary key of its charges table.
"""

from __future__ import annotations

import os
import time
import uuid

from psycopg_pool import ConnectionPool

from commands.ports import CardVerification, ChargeResult

# token -> decline code when attaching (None: attaches)
ATTACH_RULES: dict[str, str | None] = {
    "tok_visa": None,
    "tok_visa_debit": None,
    "tok_mastercard": None,
    "tok_mastercard_debit": None,
    "tok_amex": None,
    "tok_chargeCustomerFail": None,
    "tok_chargeDeclined": "card_declined",
    "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
}
# token -> decline code when charging
CHARGE_DECLINES: dict[str, str] = {
    "tok_chargeDeclined": "card_declined",
    "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "tok_chargeCustomerFail": "card_declined",
}


# Seconds a charge takes after the charge is recorded on the card's side: for crash tests, which
# kill the process while the card is charged and the outcome not yet recorded. Default 0.
DELAY_VARIABLE = "CHARGELEDGER_SIMULATED_GATEWAY_DELAY_SECONDS"


class SimulatedGateway:
    def __init__(self, pool: ConnectionPool, *, delay_seconds: float | None = None) -> None:
        self._pool = pool
        self.delay_seconds = (
            float(os.environ.get(DELAY_VARIABLE) or 0) if delay_seconds is None else delay_seconds
        )

    def verify_card(self, token: str) -> CardVerification:
        if token not in ATTACH_RULES:
            return CardVerification(approved=False, decline_code="no_such_token")
        decline = ATTACH_RULES[token]
        return CardVerification(approved=decline is None, decline_code=decline)

    def charge(self, *, token: str, amount_minor: int, currency: str, idempotency_key: str) -> ChargeResult:
        decline = CHARGE_DECLINES.get(token)
        if token not in ATTACH_RULES:
            decline = "no_such_token"
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
