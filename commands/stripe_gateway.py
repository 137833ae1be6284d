"""The Stripe adapter behind the PaymentGateway port (docs/payments.md, "Going live with
Stripe"), with the official SDK: a Stripe Customer per ledger customer, cards as its
PaymentMethods (attached directly, or set up by the EMP's front end with a SetupIntent), and
each charge an off-session PaymentIntent created with its outbox intent's Idempotency-Key, so a
retried charge is the same charge."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import stripe
from psycopg_pool import ConnectionPool

from commands.ports import CardDetails, CardSetup, CardVerification, ChargeResult, PayingCustomer

DEFAULT_API_BASE = "https://api.stripe.com"
# A PaymentIntent's metadata naming the ledger's payment (the webhook completes it by these).
PAYMENT_ID = "chargeledger_payment_id"
CUSTOMER_ID = "chargeledger_customer_id"
EMP_ID = "chargeledger_emp_id"
# An off-session PaymentIntent that wants the cardholder: the customer must confirm it.
AUTHENTICATION_REQUIRED = "authentication_required"
GENERIC_DECLINE = "generic_decline"


class StripeGateway:
    def __init__(
        self, pool: ConnectionPool, *, secret_key: str, webhook_secret: str, api_base: str | None = None
    ) -> None:
        self._pool = pool
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base or DEFAULT_API_BASE}, max_network_retries=2
        )

    # --- the port ---------------------------------------------------------------------

    def verify_card(self, token: str, *, customer: PayingCustomer) -> CardVerification:
        stripe_customer = self.stripe_customer(customer)
        try:
            method = self.client.v1.payment_methods.attach(
                token,
                {"customer": stripe_customer},
                options={"idempotency_key": f"attach:{customer.id}:{token}"},
            )
        except stripe.CardError as error:
            return CardVerification(approved=False, decline_code=decline_of(error))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404 or error.code == "resource_missing":
                return CardVerification(approved=False, decline_code="no_such_token")
            raise
        self._supersede_setups(customer.id)
        return CardVerification(approved=True, details=details_of(method), token=method.id)

    def start_card_setup(self, *, customer: PayingCustomer) -> CardSetup:
        stripe_customer = self.stripe_customer(customer)
        params: Any = {
            "customer": stripe_customer,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": {CUSTOMER_ID: str(customer.id), EMP_ID: str(customer.emp_id)},
        }
        intent = self.client.v1.setup_intents.create(
            params, options={"idempotency_key": f"card-setup:{uuid.uuid4()}"}
        )
        with self._pool.connection() as conn, conn.transaction():
            self._supersede_setups(customer.id, conn)
            conn.execute(
                "INSERT INTO stripe_card_setups (setup_intent_id, customer_id, emp_id) VALUES (%s, %s, %s)",
                (intent.id, customer.id, customer.emp_id),
            )
        assert intent.client_secret is not None
        return CardSetup(setup_intent_id=intent.id, client_secret=intent.client_secret)

    def charge(
        self,
        *,
        token: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        customer: PayingCustomer,
        payment_id: UUID,
    ) -> ChargeResult:
        params: Any = {
            "amount": amount_minor,
            "currency": currency.strip().lower(),
            "customer": self.stripe_customer(customer),
            "payment_method": token,
            "off_session": True,
            "confirm": True,
            "metadata": {
                PAYMENT_ID: str(payment_id),
                CUSTOMER_ID: str(customer.id),
                EMP_ID: str(customer.emp_id),
            },
        }
        try:
            # The SDK sends a random key of its own unless told: a retry would charge again.
            intent = self.client.v1.payment_intents.create(
                params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as error:
            declined = error.error.payment_intent if error.error else None
            charge_id = declined.id if declined is not None else ""
            return ChargeResult(approved=False, charge_id=charge_id, decline_code=decline_of(error))
        return result_of(intent.id, intent.status, intent.last_payment_error)

    # --- what only Stripe has -----------------------------------------------------------

    def stripe_customer(self, customer: PayingCustomer) -> str:
        """The Stripe Customer of this ledger customer, made at the first need of it (no
        connection is held while Stripe answers)."""
        known = self._known_customer(customer.id)
        if known is not None:
            return known
        params: Any = {"metadata": {CUSTOMER_ID: str(customer.id), EMP_ID: str(customer.emp_id)}}
        # An erased customer's name and e-mail are gone: Stripe gets none.
        params |= {k: v for k, v in (("name", customer.name), ("email", customer.email)) if v is not None}
        made = self.client.v1.customers.create(
            params,
            options={"idempotency_key": f"customer:{customer.id}"},
        )
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO stripe_customers (customer_id, stripe_customer_id) VALUES (%s, %s)"
                " ON CONFLICT (customer_id) DO NOTHING",
                (customer.id, made.id),
            )
        known = self._known_customer(customer.id)
        assert known is not None
        return known

    def _known_customer(self, customer_id: UUID) -> str | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT stripe_customer_id FROM stripe_customers WHERE customer_id = %s", (customer_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def setup_awaited(self, setup_intent_id: str) -> tuple[UUID, UUID] | None:
        """(emp_id, customer_id) of a card setup whose card is still wanted: None when unknown
        here or superseded by a newer card request (a late event does not replace a newer card)."""
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT emp_id, customer_id FROM stripe_card_setups"
                " WHERE setup_intent_id = %s AND NOT superseded",
                (setup_intent_id,),
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def card_details(self, payment_method_id: str) -> CardDetails:
        return details_of(self.client.v1.payment_methods.retrieve(payment_method_id))

    def _supersede_setups(self, customer_id: UUID, conn: Any = None) -> None:
        sql = "UPDATE stripe_card_setups SET superseded = true WHERE customer_id = %s AND NOT superseded"
        if conn is not None:
            conn.execute(sql, (customer_id,))
            return
        with self._pool.connection() as own:
            own.execute(sql, (customer_id,))


def details_of(method: Any) -> CardDetails:
    card = method.card
    return CardDetails(brand=card.brand, last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year)


def decline_of(error: stripe.CardError) -> str:
    """Stripe's decline code (insufficient_funds, expired_card, ...), else its error code
    (card_declined for a decline without a reason: generic_decline)."""
    detail = error.error
    decline = detail.decline_code if detail else None
    if decline and decline != GENERIC_DECLINE:
        return decline
    return error.code or "card_declined"


def result_of(intent_id: str, status: str, last_error: Any) -> ChargeResult:
    """A PaymentIntent's status as the port's result."""
    if status == "succeeded":
        return ChargeResult(approved=True, charge_id=intent_id)
    if status == "processing":
        return ChargeResult(approved=False, charge_id=intent_id, processing=True)
    if status == "requires_action":
        return ChargeResult(approved=False, charge_id=intent_id, decline_code=AUTHENTICATION_REQUIRED)
    error = last_error if isinstance(last_error, dict) else {}  # an event's object: plain JSON
    decline = error.get("decline_code") or getattr(last_error, "decline_code", None)
    if decline == GENERIC_DECLINE:
        decline = None
    code = decline or error.get("code") or getattr(last_error, "code", None) or "card_declined"
    return ChargeResult(approved=False, charge_id=intent_id, decline_code=code)
