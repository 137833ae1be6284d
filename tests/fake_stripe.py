"""A fake Stripe on a local port, for the calls the adapter makes (commands/stripe_gateway.py),
driven by the official SDK: objects shaped after stripe/openapi's `openapi/fixtures3.json`,
form-encoded requests, Stripe's 402 `card_error` bodies, a repeated Idempotency-Key answered
with the first response (no second object), the documented test cards as PaymentMethods, and
signed webhooks that tests send when, as often and in the order they like.

Test cards (https://docs.stripe.com/testing): pm_card_visa (4242424242424242) pays;
pm_card_chargeDeclined (4000000000000002) and pm_card_chargeDeclinedInsufficientFunds
(4000000000009995) are declined when attached; pm_card_chargeCustomerFail (4000000000000341)
attaches, then every charge is declined; pm_card_authenticationRequired (4000002760003184)
attaches, then every off-session charge needs the cardholder (requires_action)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import stripe

SECRET_KEY = "sk_test_fake_stripe"
WEBHOOK_SECRET = "whsec_fake_stripe_signing_secret"
API_VERSION = "2025-09-30.clover"


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    attach_decline: str | None = None  # decline_code when attaching
    charge_decline: str | None = None  # decline_code when charging


TEST_CARDS = {
    "pm_card_visa": TestCard("4242424242424242", "visa"),
    "pm_card_mastercard": TestCard("5555555555554444", "mastercard"),
    "pm_card_chargeDeclined": TestCard("4000000000000002", "visa", attach_decline="generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard(
        "4000000000009995", "visa", attach_decline="insufficient_funds"
    ),
    "pm_card_chargeCustomerFail": TestCard("4000000000000341", "visa", charge_decline="generic_decline"),
    "pm_card_authenticationRequired": TestCard(
        "4000002760003184", "visa", charge_decline="authentication_required"
    ),
}
BY_NUMBER = {card.number: card for card in TEST_CARDS.values()}


def form_decoded(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`metadata[k]=v`, `payment_method_types[0]=card`) as nested JSON."""
    decoded: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        target = decoded
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    for name, value in list(decoded.items()):
        if isinstance(value, dict) and value and all(k.isdigit() for k in value):
            decoded[name] = [value[k] for k in sorted(value, key=int)]
    return decoded


def object_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class StripeError(Exception):
    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.status = status
        self.error = error


class FakeStripe:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.customers: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.setup_intents: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.replies: dict[str, tuple[int, bytes]] = {}  # by Idempotency-Key
        self.events: list[dict[str, Any]] = []
        self.webhook_url: str | None = None
        # Charges answered `processing` (their outcome comes later: finish_processing).
        self.processing = False
        # PaymentMethods whose bank refuses charges for now (`insufficient_funds`): a test's way to
        # empty a cardholder's account and fill it again, which Stripe's test cards cannot.
        self.without_funds: set[str] = set()
        # Seconds a PaymentIntent's creation takes after it is made, before the answer (crash tests).
        self.delay_seconds = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer("GET", "")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self._answer("POST", self.rfile.read(length).decode())

            def _answer(self, method: str, body: str) -> None:
                if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                    status, reply = 401, _error_body("invalid_request_error", "Invalid API Key provided")
                else:
                    status, reply = fake.handle(method, self.path, form_decoded(body), self.headers)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.send_header("Request-Id", object_id("req"))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeStripe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the API -------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict[str, Any], headers: Any) -> tuple[int, bytes]:
        key = headers.get("Idempotency-Key") if method == "POST" else None
        with self.lock:
            if key is not None and key in self.replies:
                return self.replies[key]  # Stripe replays the first answer, errors included
            try:
                status, reply = 200, json.dumps(self.route(method, path.split("?")[0], params)).encode()
            except StripeError as error:
                status, reply = error.status, json.dumps({"error": error.error}).encode()
            if key is not None:
                self.replies[key] = (status, reply)
        if self.delay_seconds and method == "POST" and path == "/v1/payment_intents":
            time.sleep(self.delay_seconds)
        return status, reply

    def route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")[1:]  # without "v1"
        if method == "POST" and parts == ["customers"]:
            return self.create_customer(params)
        if method == "POST" and parts == ["setup_intents"]:
            return self.create_setup_intent(params)
        if method == "POST" and parts == ["payment_methods"]:
            return self.create_payment_method(params)
        if method == "POST" and len(parts) == 3 and parts[0] == "payment_methods" and parts[2] == "attach":
            return self.attach(parts[1], params)
        if method == "GET" and len(parts) == 2 and parts[0] == "payment_methods":
            return self.known(self.payment_methods, parts[1], "payment_method")
        if method == "POST" and parts == ["payment_intents"]:
            return self.create_payment_intent(params)
        if method == "GET" and len(parts) == 2 and parts[0] == "payment_intents":
            return self.known(self.intents, parts[1], "payment_intent")
        raise StripeError(
            404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path})")
        )

    def known(self, objects: dict[str, dict[str, Any]], object_id_: str, kind: str) -> dict[str, Any]:
        if object_id_ not in objects:
            raise StripeError(
                404,
                {
                    **_error("invalid_request_error", f"No such {kind}: '{object_id_}'"),
                    "code": "resource_missing",
                    "param": "id",
                },
            )
        return objects[object_id_]

    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": object_id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": int(time.time()),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "email": params.get("email"),
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "name": params.get("name"),
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        return customer

    def create_setup_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("customer") not in self.customers:
            self.known(self.customers, params.get("customer", ""), "customer")
        setup_id = object_id("seti")
        intent = {
            "id": setup_id,
            "object": "setup_intent",
            "application": None,
            "cancellation_reason": None,
            "client_secret": f"{setup_id}_secret_{secrets.token_hex(16)}",
            "created": int(time.time()),
            "customer": params["customer"],
            "description": None,
            "last_setup_error": None,
            "latest_attempt": None,
            "livemode": False,
            "mandate": None,
            "metadata": params.get("metadata", {}),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_options": {},
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "single_use_mandate": None,
            "status": "requires_payment_method",
            "usage": params.get("usage", "off_session"),
        }
        self.setup_intents[setup_id] = intent
        return intent

    def create_payment_method(self, params: dict[str, Any]) -> dict[str, Any]:
        card = params.get("card", {})
        number = card.get("number", "")
        test_card = BY_NUMBER.get(number, TestCard(number, "visa"))
        return self._payment_method(
            test_card, int(card.get("exp_month", 12)), int(card.get("exp_year", 2034))
        )

    def _payment_method(self, card: TestCard, exp_month: int, exp_year: int) -> dict[str, Any]:
        method = {
            "id": object_id("pm"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "card": {
                "brand": card.brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "display_brand": card.brand,
                "exp_month": exp_month,
                "exp_year": exp_year,
                "fingerprint": secrets.token_hex(8),
                "funding": "credit",
                "last4": card.number[-4:],
                "networks": {"available": [card.brand], "preferred": None},
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": int(time.time()),
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
        self.payment_methods[method["id"]] = method
        return method

    def attach(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        self.known(self.customers, params.get("customer", ""), "customer")
        if token in TEST_CARDS:  # a test card's shortcut makes a new PaymentMethod each time
            method = self._payment_method(TEST_CARDS[token], 12, 2034)
        else:
            method = self.known(self.payment_methods, token, "payment_method")
        card = self._card_of(method)
        if card is not None and card.attach_decline is not None:
            raise StripeError(402, _card_error(card.attach_decline, None))
        method["customer"] = params["customer"]
        return method

    def _card_of(self, method: dict[str, Any]) -> TestCard | None:
        last4 = method["card"]["last4"]
        return next((card for card in TEST_CARDS.values() if card.number.endswith(last4)), None)

    def create_payment_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        method = self.known(self.payment_methods, params.get("payment_method", ""), "payment_method")
        if method["customer"] != params.get("customer"):
            raise StripeError(
                400,
                _error(
                    "invalid_request_error",
                    "The provided PaymentMethod does not belong to the customer",
                ),
            )
        intent_id = object_id("pi")
        card = self._card_of(method)
        decline = card.charge_decline if card is not None else None
        if method["id"] in self.without_funds:
            decline = "insufficient_funds"
        status = "processing" if self.processing else "succeeded"
        if decline == "authentication_required":
            status = "requires_action"
        elif decline is not None:
            status = "requires_payment_method"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_capturable": 0,
            "amount_received": int(params["amount"]) if status == "succeeded" else 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": params["currency"],
            "customer": params["customer"],
            "description": None,
            "last_payment_error": None,
            "latest_charge": object_id("ch") if status == "succeeded" else None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": method["id"],
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": status,
            "transfer_data": None,
            "transfer_group": None,
        }
        self.intents[intent_id] = intent
        if decline is not None:
            error = _card_error(decline, intent)
            intent["last_payment_error"] = {k: v for k, v in error.items() if k != "payment_intent"}
            raise StripeError(402, error)
        return intent

    # --- for tests -----------------------------------------------------------------------

    def set_funds(self, payment_method_id: str, *, available: bool) -> None:
        with self.lock:
            (self.without_funds.discard if available else self.without_funds.add)(payment_method_id)

    def payment_intents(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.intents.values())

    def confirm_setup(self, setup_intent_id: str, token: str = "pm_card_visa", **card: int) -> dict[str, Any]:
        """What Stripe.js does in the customer's browser: the card set up; the event it makes."""
        with self.lock:
            intent = self.setup_intents[setup_intent_id]
            test_card = TEST_CARDS[token]
            method = self._payment_method(test_card, card.get("exp_month", 12), card.get("exp_year", 2034))
            method["customer"] = intent["customer"]
            intent.update(status="succeeded", payment_method=method["id"])
            return self.event("setup_intent.succeeded", intent)

    def finish_processing(self, intent_id: str, *, succeeded: bool) -> dict[str, Any]:
        """A processing charge's outcome: the event Stripe sends about it."""
        with self.lock:
            intent = self.intents[intent_id]
            if succeeded:
                intent.update(status="succeeded", amount_received=intent["amount"])
                return self.event("payment_intent.succeeded", intent)
            error = _card_error("insufficient_funds", None)
            intent.update(status="requires_payment_method", last_payment_error=error)
            return self.event("payment_intent.payment_failed", intent)

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        made = {
            "id": object_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        self.events.append(made)
        return made

    def send(
        self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> httpx.Response:
        """Deliver an event to the ledger's endpoint as Stripe does, signed."""
        assert self.webhook_url is not None, "set webhook_url first"
        payload = json.dumps(event)
        signature = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
        return httpx.post(
            self.webhook_url,
            content=payload,
            headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature},
            timeout=30,
        )


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "doc_url": "https://docs.stripe.com/error-codes"}


def _error_body(kind: str, message: str) -> bytes:
    return json.dumps({"error": _error(kind, message)}).encode()


DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}


def _card_error(decline_code: str, intent: dict[str, Any] | None) -> dict[str, Any]:
    """Stripe's 402 body: code card_declined (or authentication_required) and the decline code."""
    code = "authentication_required" if decline_code == "authentication_required" else "card_declined"
    error: dict[str, Any] = {
        **_error("card_error", DECLINE_MESSAGES.get(decline_code, "Your card was declined.")),
        "code": code,
        "decline_code": decline_code,
        "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
    }
    if intent is not None:
        error["payment_intent"] = intent
    return error
