"""What the OpenAPI document says of each operation: a summary, a description taken from the
page of docs/ that describes it, and examples (of the body sent and of the answer). Applied to
the generated document once, at start; tests/e2e/test_api_reference.py checks that every
operation has its entry and that every example fits its schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar

# The plugin keeps the document as served; Litestar offers no public hook to amend it.
from litestar._openapi.plugin import OpenAPIPlugin

from api.problems import PROBLEM_DESCRIPTIONS

EMP = "8f14e45f-ceea-467a-9af0-2f3b8c1d0a11"
CUSTOMER = "c9bf9e57-1685-4c89-bafb-ff5af830be8a"
SUBSCRIPTION = "a87ff679-a2f3-471d-8181-a67b7542122c"
PACKAGE = "e4da3b7f-bbce-4345-9777-2b0674a318d5"
INVOICE = "1679091c-5a88-4faf-afb5-e6087eb1b2dc"
ENDPOINT = "45c48cce-2e2d-4fbd-aa1a-fc51c7cb284d"
MESSAGE = "d3d94468-02a4-4259-b55d-38e6d163e820"
RUN = "6512bd43-d9ca-4e3b-a4a9-7c9f0e8a5b21"
TIME = "2026-11-21T09:30:00Z"
KEY = "7c1f2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b"
KEY_OUT = {"id": KEY, "role": "support", "name": "Jane Support", "created_at": TIME, "last_used_at": None}

CARD_OUT = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
CUSTOMER_OUT = {
    "id": CUSTOMER,
    "name": "Ann Driver",
    "email": "ann@example.com",
    "account_type": "prepaid",
    "currency": "EUR",
    "balance_minor": 0,
    "payment_card": None,
    "auto_top_up": {"enabled": False, "threshold_minor": 1000, "amount_minor": 3000},
    "created_at": TIME,
    "external_ref": "crm-1001",
    "dunning": None,
}
WITH_CARD = {**CUSTOMER_OUT, "payment_card": CARD_OUT}
EMP_OUT = {
    "id": EMP,
    "name": "Volt Charging",
    "currency": "EUR",
    "auto_top_up": {"threshold_minor": 1000, "amount_minor": 3000},
    "vat_rate_bp": 2550,
    "time_zone": "Europe/Helsinki",
    "test_clock": None,
    "dunning": {"retry_after_days": [1, 3, 7], "block_after_days": 14, "minimum_minor": 500},
}
PACKAGE_OUT = {
    "id": PACKAGE,
    "code": "ROAM",
    "name": "Roaming week",
    "kind": "bolt_on",
    "recurring": False,
    "payment": "any",
    "price_minor": 500,
    "created_at": TIME,
}
HELD_PACKAGE = {
    "id": PACKAGE,
    "code": "BASIC",
    "kind": "base",
    "recurring": True,
    "acquired_at": TIME,
    "status": "active",
    "payment": "prepaid",
    "price_minor": 490,
    "cancelled_at": None,
}
SUBSCRIPTION_OUT = {
    "id": SUBSCRIPTION,
    "customer_id": CUSTOMER,
    "tariff": "prepaid",
    "billing_day": 21,
    "started_at": TIME,
    "packages": [HELD_PACKAGE],
    "ended_at": None,
}
BOLT_ON = {
    **HELD_PACKAGE,
    "code": "NIGHT",
    "kind": "bolt_on",
    "payment": "postpaid",
    "price_minor": 300,
}
TRANSACTION = {
    "id": "0cc175b9-c0f1-46a8-b1c7-7d6a2a8f9e01",
    "type": "session",
    "amount_minor": -1290,
    "balance_after_minor": 210,
    "occurred_at": "2026-11-21T09:10:00Z",
    "recorded_at": TIME,
    "reference": "CDR-2026-000117",
    "sequence": 4,
    "description": "charging session CDR-2026-000117: 18.4 kWh at FI-HEL-001",
}
EVENT = {
    "sequence": 1,
    "type": "Registered",
    "recorded_at": TIME,
    "data": {"account_type": "prepaid", "occurred_at": TIME, "caused_by": "api-key:4b2e… (CRM integration)"},
}
INVOICE_OUT = {
    "id": INVOICE,
    "number": "INV-000042",
    "sequence": 42,
    "customer_id": CUSTOMER,
    "subscription_id": SUBSCRIPTION,
    "period_start": "2026-10-21T00:00:00Z",
    "period_end": "2026-11-21T00:00:00Z",
    "currency": "EUR",
    "lines": [
        {
            "position": 1,
            "vat_rate_bp": 2550,
            "description": "Flex postpaid, 21 Oct - 20 Nov",
            "kind": "package",
            "amount_minor": 990,
            "net_minor": 789,
            "vat_minor": 201,
            "gross_minor": 990,
            "reference": "FLEX",
            "days": 31,
            "ended_at": None,
        }
    ],
    "total_minor": 990,
    "net_minor": 789,
    "vat_minor": 201,
    "vat_rate_bp": 2550,
    "issued_at": "2026-11-21T02:00:05Z",
    "status": "open",
    "due_at": "2026-12-05T22:00:00Z",
    "amount_paid_minor": 0,
    "credited_minor": 0,
}
CREDIT_NOTE = "f7177163-c833-4ff4-b38d-9ac0b8e1d2a1"
CREDIT_NOTE_OUT = {
    "id": CREDIT_NOTE,
    "number": "CN-000003",
    "sequence": 3,
    "invoice_id": INVOICE,
    "invoice_number": "INV-000042",
    "customer_id": CUSTOMER,
    "currency": "EUR",
    "reason": "Charger fault on 14 November",
    "lines": [
        {"line": 1, "description": "Flex postpaid, 21 Oct - 20 Nov", "amount_minor": 495, "net_minor": 394,
         "vat_minor": 101, "vat_rate_bp": 2550}
    ],
    "net_minor": 394,
    "vat_minor": 101,
    "total_minor": 495,
    "issued_at": TIME,
}  # fmt: skip
UBL_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">…</Invoice>'
)
ADDRESS = {"line1": "Testikatu 1", "city": "Espoo", "postal_code": "02100", "country": "FI"}
JOB_RUN = {
    "job": "invoice-production",
    "as_of": "2026-12-01T02:00:00Z",
    "processed": 42,
    "failures": 0,
    "run_id": RUN,
    "started_at": "2026-12-01T02:00:00Z",
    "finished_at": "2026-12-01T02:00:04Z",
    "status": "finished",
    "details": {},
    "triggered_by": "scheduler",
    "emp_id": None,
}
ENDPOINT_OUT = {
    "id": ENDPOINT,
    "url": "https://hooks.example.com/chargeledger",
    "event_types": ["session.recorded", "top_up.failed", "invoice.issued"],
    "description": "the CRM",
    "enabled": True,
    "created_at": TIME,
}
SESSION_IN = {
    "session_id": "CDR-2026-000117",
    "customer_id": CUSTOMER,
    "started_at": "2026-11-21T08:30:00Z",
    "ended_at": "2026-11-21T09:10:00Z",
    "energy_wh": 18400,
    "cost_minor": 1290,
    "location": "FI-HEL-001",
}
CARD_IN = {"token": "tok_visa", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}


@dataclass(frozen=True)
class Doc:
    summary: str
    description: str
    page: str  # the docs/ page (and section) that describes it
    request: Any = None  # an example body
    response: Any = None  # an example of the successful answer


def page(name: str, anchor: str = "") -> str:
    return f"{name}.md" + (f"#{anchor}" if anchor else "")


OPERATIONS: dict[str, Doc] = {
    # --- administration (admin key) ---
    "POST /v1/emps": Doc(
        "Create an EMP",
        "An e-mobility provider with its one ISO 4217 currency, the defaults of automatic top-up"
        " (threshold and amount), its VAT rate and its time zone; optionally on a test clock,"
        " whose batch jobs run only when the clock is moved.",
        page("api-basics", "keys-and-roles"),
        {"name": "Volt Charging", "currency": "EUR", "vat_rate_bp": 2550, "time_zone": "Europe/Helsinki"},
        EMP_OUT,
    ),
    "GET /v1/emps/{emp_id}": Doc(
        "Read an EMP",
        "The EMP's settings: currency, top-up defaults, VAT rate, time zone, test clock.",
        page("api-basics", "keys-and-roles"),
        None,
        EMP_OUT,
    ),
    "PATCH /v1/emps/{emp_id}": Doc(
        "Change an EMP",
        "Changes the name, time zone, VAT rate, automatic top-up defaults or the ladder of dunning"
        ' (`"dunning": null` turns it off; docs/payments.md); fields left out stay as they are.'
        " The currency never changes.",
        page("api-basics", "keys-and-roles"),
        {"vat_rate_bp": 2400},
        {**EMP_OUT, "vat_rate_bp": 2400},
    ),
    "POST /v1/emps/{emp_id}/test-clock/advance": Doc(
        "Move an EMP's test clock",
        "Moves the test clock forward; with `run_jobs` the batch jobs run at every scheduled"
        " instant passed, in order, so months of billing can be tried in seconds.",
        page("billing", "the-scheduler"),
        {"to": "2026-12-02T03:00:00Z", "run_jobs": True},
        {
            "now": "2026-12-02T03:00:00Z",
            "job_runs": [{"job": "invoice-production", "as_of": "2026-12-02T02:00:00Z", "processed": 3}],
        },
    ),
    "POST /v1/emps/{emp_id}/api-keys": Doc(
        "Issue an API key",
        "A key of the EMP with one role: `emp` (the integration: everything of its EMP), `support`"
        " (read, and record adjustments) or `auditor` (read-only: histories, verification,"
        " exports). The key is shown once, in this answer; only its digest is kept.",
        page("keys", "issue-a-named-key"),
        {"role": "support", "name": "Jane Support"},
        {**KEY_OUT, "key": "clk_4b2e…", "emp_id": EMP},
    ),
    "GET /v1/emps": Doc(
        "List EMPs",
        "Every EMP, oldest first, each as reading it shows it, a page at a time (`limit`, `cursor`).",
        page("keys", "list-the-emps"),
        None,
        {"items": [EMP_OUT], "next_cursor": None},
    ),
    "GET /v1/emps/{emp_id}/api-keys": Doc(
        "List an EMP's API keys",
        "The keys that work, oldest first: id, role, who holds it (`name`), when it was issued and"
        " last used (to the minute); never the key itself nor its digest.",
        page("keys", "list-the-keys"),
        None,
        {"items": [{**KEY_OUT, "last_used_at": TIME}], "next_cursor": None},
    ),
    "DELETE /v1/emps/{emp_id}/api-keys/{key_id}": Doc(
        "Revoke an API key",
        "The key stops working at once, in every process of the service: its next request is 401."
        " An unknown key, one of another EMP or one revoked before is 404.",
        page("keys", "revoke-a-key"),
        None,
        None,
    ),
    # --- customers ---
    "GET /v1/customers": Doc(
        "List customers",
        "The EMP's customers in registration order, a page at a time (`limit`, `cursor`);"
        " filtered by `external_ref` (exactly), `email` (the whole address) or `q` (part of the"
        " name or the e-mail), `email` and `q` regardless of case and accents.",
        page("accounts", "find-customers"),
        None,
        {"items": [CUSTOMER_OUT], "next_cursor": None},
    ),
    "POST /v1/customers": Doc(
        "Register a customer",
        "A prepaid customer has a balance funded by top-ups; a postpaid customer has every session"
        " accepted and a monthly invoice. `external_ref` (optional) is your own reference, unique"
        " per EMP: the same registration again answers 200 with the existing customer; the same"
        " reference with other data is 409 duplicate.",
        page("accounts", "register-a-customer"),
        {
            "name": "Ann Driver",
            "email": "ann@example.com",
            "account_type": "prepaid",
            "external_ref": "crm-1001",
        },
        CUSTOMER_OUT,
    ),
    "GET /v1/customers/{customer_id}": Doc(
        "Read a customer",
        "The customer with its balance, the display data of its card and its top-up consent.",
        page("accounts", "register-a-customer"),
        None,
        WITH_CARD,
    ),
    "PUT /v1/customers/{customer_id}/payment-card": Doc(
        "Store the payment card",
        "The card (a gateway token, never a card number) is verified with the payment gateway"
        " first: a declined card answers 402 payment-declined and nothing is stored. The answer"
        " shows only brand, last four digits and expiry; the token is never shown again. With Stripe"
        ' send only the PaymentMethod (`{"token": "pm_..."}`): it is attached to the customer\'s'
        " Stripe Customer and its details are read from Stripe. An expired card answers 422 naming"
        " exp_year or exp_month.",
        page("accounts", "store-or-remove-the-payment-card"),
        CARD_IN,
        WITH_CARD,
    ),
    "DELETE /v1/customers/{customer_id}/payment-card": Doc(
        "Remove the payment card",
        "Removes the stored card; automatic top-up consent lapses with it (recorded as its own event first).",
        page("accounts", "store-or-remove-the-payment-card"),
        None,
        CUSTOMER_OUT,
    ),
    "DELETE /v1/customers/{customer_id}/personal-data": Doc(
        "Erase the customer's personal data",
        "Name, e-mail, billing details and card details go from every read model (the customer,"
        " its invoices' and credit notes' buyer, its mail) and become unreadable in the stored"
        " events: the customer's key is destroyed. Balances, amounts, histories and the hash"
        " chains stay; the history shows PersonalDataErased. A repeat answers 204 again.",
        page("personal-data", "erase-a-customers-personal-data"),
        None,
        None,
    ),
    "PUT /v1/customers/{customer_id}/auto-top-up": Doc(
        "Give or withdraw automatic top-up consent",
        "With consent, a debit that leaves the balance below the threshold charges the card the"
        " amount once. Omitted amounts take the EMP's defaults. Needs a prepaid account"
        " (422 top-up-not-applicable) and a stored card (422 card-required); `enabled: false`"
        " withdraws consent.",
        page("accounts", "automatic-top-up-consent"),
        {"enabled": True, "threshold_minor": 1000, "amount_minor": 3000},
        {**WITH_CARD, "auto_top_up": {"enabled": True, "threshold_minor": 1000, "amount_minor": 3000}},
    ),
    "POST /v1/customers/{customer_id}/top-ups": Doc(
        "Top up the balance",
        "Charges the stored card, then credits the balance. Declined: 402 payment-declined and the"
        " balance is unchanged; no card: 422 card-required; postpaid: 422 top-up-not-applicable."
        " With an Idempotency-Key a retried top-up charges the card once.",
        page("top-ups", "manual-top-up"),
        {"amount_minor": 1500},
        {"id": "92eb5ffe-e8b4-4a1c-9b8e-3f1a2c4d5e6f", "amount_minor": 1500, "balance_minor": 1500},
    ),
    "POST /v1/customers/{customer_id}/authorize": Doc(
        "Authorize a charge",
        "OCPI semantics: a postpaid customer is always ALLOWED; a prepaid customer is ALLOWED only"
        " while the balance is above zero, else NO_CREDIT. Reads the customer's recorded events,"
        " so it is never behind a write.",
        page("sessions", "authorize-before-charging"),
        None,
        {"allowed": "ALLOWED"},
    ),
    "GET /v1/customers/{customer_id}/transactions": Doc(
        "List balance movements",
        "Every balance movement, oldest first: sessions, top-ups, package debits, card payments and"
        " adjustments, each with the balance right after it. The balance equals the sum of"
        " `amount_minor` over the list.",
        page("sessions", "the-transactions-list"),
        None,
        {"items": [TRANSACTION], "next_cursor": None},
    ),
    "GET /v1/customers/{customer_id}/balance": Doc(
        "Read the balance",
        "The balance now, or with `at` as the ledger had recorded it at that instant (recording time).",
        page("support", "the-same-over-the-api"),
        None,
        {"balance_minor": 850, "currency": "EUR", "as_of": "2026-03-14T18:00:00Z"},
    ),
    "GET /v1/customers/{customer_id}/balance/explain": Doc(
        "Explain the balance",
        "Every event that moved the balance up to `at`, with running balance, business time,"
        " recording time, cause and a description in words; the changes add up to the balance.",
        page("support", "the-same-over-the-api"),
        None,
        {
            "balance_minor": 210,
            "currency": "EUR",
            "as_of": TIME,
            "lines": [
                {
                    "sequence": 4,
                    "type": "SessionCharged",
                    "recorded_at": TIME,
                    "occurred_at": "2026-11-21T09:10:00Z",
                    "delta_minor": -1290,
                    "balance_after_minor": 210,
                    "reference": "CDR-2026-000117",
                    "description": "charging session CDR-2026-000117: 18.4 kWh at FI-HEL-001",
                    "caused_by": "api-key:4b2e…",
                    "cause": {},
                }
            ],
        },
    ),
    "POST /v1/customers/{customer_id}/adjustments": Doc(
        "Correct a balance",
        "Nothing is edited: a compensating movement is recorded with its reason and the key that"
        " recorded it. `amount_minor` is signed (positive credits the customer) and never 0. With"
        " an Idempotency-Key (the ticket number is a good one) a retry records it once.",
        page("support", "correcting-a-balance"),
        {"amount_minor": 450, "reason": "Ticket 4711: charger fault, refund"},
        {
            "id": "b6d767d2-f8ed-4a2c-9d1e-5f0a1b2c3d4e",
            "customer_id": CUSTOMER,
            "amount_minor": 450,
            "reason": "Ticket 4711: charger fault, refund",
            "balance_minor": 660,
            "sequence": 5,
            "recorded_by": "api-key:7c1f…",
        },
    ),
    "GET /v1/customers/{customer_id}/events": Doc(
        "Read a customer's history",
        "Every event of the customer's stream, oldest first, with its position, type, recording"
        " time and data (including the business time and what caused it).",
        page("auditors", "full-histories"),
        None,
        {"items": [EVENT], "next_cursor": None},
    ),
    # --- catalog and subscriptions ---
    "GET /v1/packages": Doc(
        "List the catalog",
        "The EMP's packages, in the order they were defined.",
        page("packages", "the-catalog"),
        None,
        {"items": [PACKAGE_OUT], "next_cursor": None},
    ),
    "POST /v1/packages": Doc(
        "Define a package",
        "A base package, a bolt-on or a top-up; `code` is unique per EMP (the same definition again"
        " answers 200, another one under the same code 409 duplicate). Prices are gross, in minor"
        " units; only what the packages table allows is accepted (422 package-not-allowed).",
        page("packages", "the-catalog"),
        {
            "code": "ROAM",
            "name": "Roaming week",
            "kind": "bolt_on",
            "recurring": False,
            "payment": "any",
            "price_minor": 500,
        },
        PACKAGE_OUT,
    ),
    "GET /v1/subscriptions": Doc(
        "List subscriptions",
        "The EMP's subscriptions, optionally of one customer.",
        page("packages", "start-a-subscription"),
        None,
        {"items": [SUBSCRIPTION_OUT], "next_cursor": None},
    ),
    "POST /v1/subscriptions": Doc(
        "Start a subscription",
        "With its base package, whose payment must be the customer's tariff (422"
        " package-not-allowed). `billing_day` (1-31) defaults to the day it starts; `started_at`"
        " may lie in the past (backdated).",
        page("packages", "start-a-subscription"),
        {"customer_id": CUSTOMER, "base_package": "BASIC"},
        SUBSCRIPTION_OUT,
    ),
    "GET /v1/subscriptions/{subscription_id}": Doc(
        "Read a subscription",
        "The subscription with its packages, active and cancelled.",
        page("packages", "start-a-subscription"),
        None,
        SUBSCRIPTION_OUT,
    ),
    "POST /v1/subscriptions/{subscription_id}/end": Doc(
        "End a subscription",
        "Ends it now or at `at`; no period starts after its end, and its last period is billed.",
        page("packages", "cancel-a-bolt-on"),
        {"at": "2026-12-31T23:00:00Z"},
        {**SUBSCRIPTION_OUT, "ended_at": "2026-12-31T23:00:00Z"},
    ),
    "POST /v1/subscriptions/{subscription_id}/base-package": Doc(
        "Change the base package",
        "Replaces the base package now or from `at`; the new one must be a base of the same tariff.",
        page("packages", "start-a-subscription"),
        {"package": "BASIC_PLUS"},
        {**SUBSCRIPTION_OUT, "packages": [{**HELD_PACKAGE, "code": "BASIC_PLUS", "price_minor": 790}]},
    ),
    "POST /v1/subscriptions/{subscription_id}/packages": Doc(
        "Buy a package",
        "A bolt-on or a top-up. A non-recurring bolt-on is paid up front (from a prepaid balance, or"
        " by a postpaid customer's card); a top-up is charged to the card and credited at once; a"
        " recurring bolt-on is billed like the base. With an Idempotency-Key it is bought once.",
        page("packages", "buy-packages"),
        {"package": "NIGHT"},
        BOLT_ON,
    ),
    "DELETE /v1/subscriptions/{subscription_id}/packages/{package_id}": Doc(
        "Cancel a bolt-on",
        "A cancelled recurring bolt-on stops renewing; the same one can be bought again later. The"
        " base package ends only with the subscription (422 package-not-allowed).",
        page("packages", "cancel-a-bolt-on"),
        None,
        {**BOLT_ON, "status": "cancelled", "cancelled_at": TIME},
    ),
    "GET /v1/subscriptions/{subscription_id}/events": Doc(
        "Read a subscription's history",
        "Every event of the subscription's stream, oldest first.",
        page("auditors", "full-histories"),
        None,
        {"items": [{**EVENT, "type": "Started", "data": {"tariff": "prepaid"}}], "next_cursor": None},
    ),
    # --- sessions and registration ---
    "POST /v1/sessions": Doc(
        "Record a charging session",
        "Every session is recorded, whatever the balance: the balance goes down by `cost_minor`,"
        " possibly below zero. `session_id` is unique per EMP: the same session again answers 200"
        " and charges nothing; other data under it is 409 duplicate. `ended_at` (the business"
        " time) before `started_at` or in the future: 422 invalid-period.",
        page("sessions", "record-a-session"),
        SESSION_IN,
        {
            "session_id": "CDR-2026-000117",
            "customer_id": CUSTOMER,
            "cost_minor": 1290,
            "balance_minor": -1290,
        },
    ),
    "POST /v1/sessions/batch": Doc(
        "Record up to 1000 sessions",
        "History imports and CDR files: one result per session in the order sent, each what"
        " POST /v1/sessions would have answered for it alone; the good ones are recorded together.",
        page("sessions", "record-many-sessions-at-once"),
        {"sessions": [SESSION_IN, {**SESSION_IN, "session_id": "CDR-2026-000118", "cost_minor": 1080}]},
        {
            "results": [
                {"session_id": "CDR-2026-000117", "status": 201, "balance_minor": -1290},
                {"session_id": "CDR-2026-000118", "status": 201, "balance_minor": -2370},
            ]
        },
    ),
    "GET /v1/sessions": Doc(
        "List sessions",
        "The EMP's sessions in the order they ended, a page at a time (`limit`, `cursor`): those of"
        " one customer with `customer_id`, those that ended from `from` (inclusive) to `to`"
        " (exclusive); instants answered in UTC.",
        page("sessions", "list-sessions"),
        None,
        {
            "items": [
                {
                    **SESSION_IN,
                    "currency": "EUR",
                    "recorded_at": "2026-11-21T09:10:02Z",
                    "invoice_id": None,
                }
            ],
            "next_cursor": None,
        },
    ),
    "POST /v1/registrations": Doc(
        "Register in one step",
        "The registration site's flow: customer, card, top-up consent and subscription in one"
        " transaction, or nothing. A declined card is 402 and nothing is recorded.",
        page("top-ups", "registration-in-one-step"),
        {
            "name": "Ann Driver",
            "email": "ann@example.com",
            "account_type": "prepaid",
            "card": CARD_IN,
            "auto_top_up": True,
            "base_package": "BASIC",
        },
        {
            "customer": {
                **WITH_CARD,
                "external_ref": None,
                "auto_top_up": {"enabled": True, "threshold_minor": 1000, "amount_minor": 3000},
            },
            "subscription": SUBSCRIPTION_OUT,
        },
    ),
    # --- ledger queries ---
    "GET /v1/exports/sessions": Doc(
        "Export sessions",
        "Sessions that ended in [`from`, `to`), oldest first, as CSV (or NDJSON with"
        " `format=ndjson`), streamed: memory stays flat whatever the size.",
        page("auditors", "exports"),
        None,
        "session_id,customer_id,started_at,ended_at,energy_wh,cost_minor,currency,location,recorded_at\n"
        f"CDR-2026-000117,{CUSTOMER},2026-11-21T08:30:00Z,2026-11-21T09:10:00Z,18400,1290,EUR,FI-HEL-001,{TIME}\n",
    ),
    "GET /v1/exports/transactions": Doc(
        "Export transactions",
        "Balance movements recorded in [`from`, `to`), in recording order, as CSV or NDJSON.",
        page("auditors", "exports"),
        None,
        "id,customer_id,sequence,type,amount_minor,balance_after_minor,currency,occurred_at,recorded_at,reference\n"
        f"{TRANSACTION['id']},{CUSTOMER},4,session,-1290,210,EUR,2026-11-21T09:10:00Z,{TIME},CDR-2026-000117\n",
    ),
    "GET /v1/audit/verify": Doc(
        "Verify the ledger",
        "Recomputes every hash chain of the EMP's streams (all of them with the admin key) and"
        " compares every read model with a replay of the events; each problem names the stream,"
        " the position and what was expected.",
        page("auditors", "verification"),
        None,
        {"ok": True, "streams_checked": 1234, "events_checked": 56789, "problems": []},
    ),
    "GET /v1/invoices": Doc(
        "List invoices",
        "The EMP's invoices by number, optionally of one customer.",
        page("billing", "invoice-production"),
        None,
        {"items": [INVOICE_OUT], "next_cursor": None},
    ),
    "GET /v1/invoices/{invoice_id}": Doc(
        "Read an invoice",
        "One invoice per completed postpaid billing period, with its package and session lines,"
        " net, VAT and total.",
        page("billing", "invoice-production"),
        None,
        INVOICE_OUT,
    ),
    "PATCH /v1/customers/{customer_id}": Doc(
        "Change a customer's details",
        "Name, e-mail, external reference and billing details (address, VAT id, buyer reference,"
        " Peppol address); history keeps the old values and issued invoices keep theirs.",
        page("invoices", "details-on-documents"),
        {"billing": {"address": ADDRESS, "vat_id": "FI87654321"}},
        CUSTOMER_OUT,
    ),
    "GET /v1/invoices/{invoice_id}/pdf": Doc(
        "An invoice as PDF",
        "The invoice as a PDF document in the EMP's currency, time zone and number format.",
        page("invoices", "documents"),
        None,
        "%PDF-1.7 …",
    ),
    "GET /v1/invoices/{invoice_id}/ubl": Doc(
        "An invoice as a Peppol e-invoice",
        "UBL 2.1 XML after Peppol BIS Billing 3.0; 422 names the seller or buyer details missing.",
        page("invoices", "documents"),
        None,
        UBL_EXAMPLE,
    ),
    "POST /v1/invoices/{invoice_id}/payments": Doc(
        "Record a payment on an invoice",
        "A payment received for an invoice (a bank transfer, say): the invoice is `paid` once"
        " payments and credit notes cover its total; more than is open is 422 over-limit.",
        page("invoices", "due-dates-and-payments"),
        {"amount_minor": 990, "paid_at": TIME, "reference": "bank transfer 2026-11-21"},
        {
            "id": "aab32389-22bc-4c25-a6f6-06eb525ffdc5",
            "invoice_id": INVOICE,
            "amount_minor": 990,
            "paid_at": TIME,
            "reference": "bank transfer 2026-11-21",
        },
    ),
    "POST /v1/invoices/{invoice_id}/credit-notes": Doc(
        "Issue a credit note",
        "Credits lines of an invoice (or all that is left uncredited with `full`): a numbered"
        " document of its own series that credits the customer's balance; the invoice is never"
        " edited. More than is left uncredited is 422 over-limit.",
        page("invoices", "credit-notes"),
        {"reason": "Charger fault on 14 November", "lines": [{"line": 1, "amount_minor": 495}]},
        CREDIT_NOTE_OUT,
    ),
    "GET /v1/credit-notes": Doc(
        "List credit notes",
        "The EMP's credit notes by number, optionally of one customer.",
        page("invoices", "credit-notes"),
        None,
        {"items": [CREDIT_NOTE_OUT], "next_cursor": None},
    ),
    "GET /v1/credit-notes/{credit_note_id}": Doc(
        "Read a credit note",
        "A credit note with its lines, net, VAT and total, and the invoice it credits.",
        page("invoices", "credit-notes"),
        None,
        CREDIT_NOTE_OUT,
    ),
    "GET /v1/credit-notes/{credit_note_id}/pdf": Doc(
        "A credit note as PDF",
        "The credit note as a PDF document, naming the invoice it credits.",
        page("invoices", "documents"),
        None,
        "%PDF-1.7 …",
    ),
    "GET /v1/credit-notes/{credit_note_id}/ubl": Doc(
        "A credit note as a Peppol e-invoice",
        "UBL 2.1 CreditNote (type 381) after Peppol BIS Billing 3.0, with a BillingReference to the invoice.",
        page("invoices", "documents"),
        None,
        UBL_EXAMPLE,
    ),
    # --- batch jobs (admin key) ---
    "POST /v1/jobs/{job}/runs": Doc(
        "Run a batch job",
        "Runs recurring-prepayment, recurring-payment or invoice-production over everything due up"
        " to `as_of` (catch-up semantics; a second run changes nothing), for every EMP on the real"
        " clock or one `emp_id`. The run is recorded.",
        page("billing", "the-jobs"),
        {"as_of": "2026-12-01T02:00:00Z"},
        {**JOB_RUN, "triggered_by": "admin"},
    ),
    "GET /v1/jobs/runs": Doc(
        "List job runs",
        "Every run, newest first: job, `as_of`, times, counts and status (`running`, `finished`,"
        " `failed`, or `interrupted` when its process stopped mid-way).",
        page("billing", "the-jobs"),
        None,
        {"items": [JOB_RUN], "next_cursor": None},
    ),
    # --- webhooks and the event feed ---
    "GET /v1/webhook-endpoints": Doc(
        "List webhook endpoints",
        "The EMP's endpoints, without their secrets.",
        page("webhooks", "register-an-endpoint"),
        None,
        {"items": [ENDPOINT_OUT], "next_cursor": None},
    ),
    "POST /v1/webhook-endpoints": Doc(
        "Register a webhook endpoint",
        "An https:// URL on a public address and the event types it wants (default: all). The"
        " signing secret is shown once, in this answer; deliveries follow Standard Webhooks.",
        page("webhooks", "register-an-endpoint"),
        {
            "url": "https://hooks.example.com/chargeledger",
            "event_types": ENDPOINT_OUT["event_types"],
            "description": "the CRM",
        },
        {**ENDPOINT_OUT, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    ),
    "GET /v1/webhook-endpoints/{endpoint_id}": Doc(
        "Read a webhook endpoint",
        "The endpoint as created, without its secret.",
        page("webhooks", "register-an-endpoint"),
        None,
        ENDPOINT_OUT,
    ),
    "DELETE /v1/webhook-endpoints/{endpoint_id}": Doc(
        "Delete a webhook endpoint",
        "Deletes the endpoint; nothing more is delivered to it.",
        page("webhooks", "register-an-endpoint"),
        None,
        None,
    ),
    "PATCH /v1/webhook-endpoints/{endpoint_id}": Doc(
        "Change a webhook endpoint",
        "Changes its URL, event types, description, or disables it; fields left out stay.",
        page("webhooks", "register-an-endpoint"),
        {"enabled": False},
        {**ENDPOINT_OUT, "enabled": False},
    ),
    "POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret": Doc(
        "Rotate the signing secret",
        "A new secret, shown once; for 24 hours deliveries are signed with both, so the receiver"
        " can switch without losing one.",
        page("webhooks", "rotate-the-secret"),
        None,
        {"secret": "whsec_C2VjcmV0LXR3by1yb3RhdGVkLWtleQ=="},
    ),
    "GET /v1/webhook-endpoints/{endpoint_id}/messages": Doc(
        "List an endpoint's deliveries",
        "Each message for the endpoint with its state (pending, delivered, failed), attempts, last"
        " status code and next attempt.",
        page("webhooks", "retries-states-and-a-manual-retry"),
        None,
        {
            "items": [
                {
                    "id": MESSAGE,
                    "type": "session.recorded",
                    "state": "pending",
                    "attempts": 3,
                    "last_status_code": 503,
                    "next_attempt_at": "2026-11-21T10:30:00Z",
                    "created_at": TIME,
                }
            ],
            "next_cursor": None,
        },
    ),
    "POST /v1/webhook-endpoints/{endpoint_id}/messages/{message_id}/retry": Doc(
        "Retry a delivery",
        "Delivers a pending or failed message again now (202: it is queued).",
        page("webhooks", "retries-states-and-a-manual-retry"),
        None,
        None,
    ),
    "GET /v1/events": Doc(
        "Read the event feed",
        "The EMP's webhook messages as a feed, in log order; follow `next_cursor` to poll for what"
        " came after (an alternative, or a complement, to webhooks).",
        page("webhooks", "the-event-feed"),
        None,
        {
            "items": [
                {
                    "id": "msg_2hQ…",
                    "type": "customer.created",
                    "timestamp": TIME,
                    "data": {
                        "emp_id": EMP,
                        "customer_id": CUSTOMER,
                        "account_type": "prepaid",
                        "external_ref": None,
                        "sequence": 1,
                    },
                }
            ],
            "next_cursor": "MTIzNA",
        },
    ),
    # --- card payments through Stripe ---
    "POST /v1/customers/{customer_id}/card-setup": Doc(
        "Start a card setup",
        "With CHARGELEDGER_PAYMENT_GATEWAY=stripe: a SetupIntent of the customer's Stripe Customer"
        " for the EMP's front end to confirm with Stripe.js (`client_secret`). When Stripe reports"
        " it succeeded (webhook), the card is stored with its brand, last four digits and expiry"
        " from Stripe; an expired one is not. With the simulated gateway 422.",
        page("payments", "going-live-with-stripe"),
        None,
        {
            "setup_intent_id": "seti_1Pgag7B7WZ01zgkWSgwGdb8Z",
            "client_secret": "seti_1Pgag7B7WZ01zgkWSgwGdb8Z_secret_QXg2AQLdBxJwtY51IkwvUaBVsnCq",
        },
    ),
    "POST /v1/psp/stripe/webhooks": Doc(
        "Receive a Stripe event",
        "The endpoint to register at Stripe; no API key: the `Stripe-Signature` header (HMAC-SHA256"
        " with the endpoint's signing secret, at most 300 s old) is checked, and a bad one answers"
        " 400 and records nothing. Each event is recorded once by its id, in any order and any number"
        " of repeats: payment_intent.succeeded and payment_intent.payment_failed complete a payment"
        " still in flight (a later answer changes nothing), setup_intent.succeeded stores the card."
        " 404 unless the gateway is stripe.",
        page("payments", "going-live-with-stripe"),
        None,
        {"received": True, "outcome": "recorded"},
    ),
    # --- operations ---
    "GET /health": Doc(
        "Check the service's health",
        "200 while the database answers, with the log position and each asynchronous read model's"
        " position, lag and last error; `degraded` (still 200) while one fails; 503 when the"
        " database does not answer.",
        "operations.md#health-and-metrics",
        None,
        {
            "status": "ok",
            "database": "ok",
            "log_position": 5678,
            "projections": {
                "payments": {
                    "position": 5678,
                    "lag": 0,
                    "running": True,
                    "restarts": 0,
                    "last_error": None,
                    "failing_since": None,
                },
            },
            "webhooks": {"running": True, "deliveries": {"pending": 2, "delivered": 120}},
        },
    ),
    "GET /metrics": Doc(
        "Prometheus metrics",
        "HTTP figures, projection positions and lag, and the business figures: sessions, card"
        " payments by purpose and outcome, invoices, debits, outbox depths and job runs by result.",
        "operations.md#health-and-metrics",
        None,
        "# TYPE chargeledger_projection_lag_events gauge\n"
        'chargeledger_projection_lag_events{projection="payments"} 0\n',
    ),
}

OCPI_PARTY_OUT = {
    "id": "b6d767d2-f8ed-4f21-a44d-2b0c5b5a0a31",
    "country_code": "NL",
    "party_id": "EXA",
    "name": "Example Operator",
    "markup_bp": 500,
    "versions_url": "https://ledger.example.com/ocpi/versions",
    "status": "pending",
    "created_at": TIME,
    "token_a": "ta_3f1c9e0d8b7a6f5e4d3c2b1a",
}
TOKEN_OUT = {
    "uid": "04A1B2C3D4E5F6",
    "type": "RFID",
    "contract_id": "FI-VLT-C00042",
    "visual_number": "VLT 0042",
    "valid": True,
    "customer_id": CUSTOMER,
    "last_updated": TIME,
}
OCPI_OK = {"status_code": 1000, "status_message": "Success", "timestamp": TIME}
OCPI_CREDENTIALS = {
    "token": "the-cpos-token-b",
    "url": "https://cpo.example.com/ocpi/versions",
    "roles": [
        {
            "role": "CPO",
            "party_id": "EXA",
            "country_code": "NL",
            "business_details": {"name": "Example Operator"},
        }
    ],
}
OCPI_CDR = {
    "country_code": "NL",
    "party_id": "EXA",
    "id": "CDR-12345",
    "start_date_time": "2026-11-21T08:00:00Z",
    "end_date_time": "2026-11-21T09:10:00Z",
    "cdr_token": {
        "country_code": "FI",
        "party_id": "VLT",
        "uid": "04A1B2C3D4E5F6",
        "type": "RFID",
        "contract_id": "FI-VLT-C00042",
    },
    "auth_method": "WHITELIST",
    "cdr_location": {
        "id": "LOC1",
        "address": "Mannerheimintie 1",
        "city": "Helsinki",
        "country": "FIN",
        "coordinates": {"latitude": "60.16952", "longitude": "24.93545"},
        "evse_uid": "3256",
        "evse_id": "NL*EXA*E3256",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_3_PHASE",
    },
    "currency": "EUR",
    "charging_periods": [
        {"start_date_time": "2026-11-21T08:00:00Z", "dimensions": [{"type": "ENERGY", "volume": 18.4}]}
    ],
    "total_cost": {"excl_vat": 10.28, "incl_vat": 12.9},
    "total_energy": 18.4,
    "total_time": 1.1667,
    "last_updated": "2026-11-21T09:12:00Z",
}
OCPI_DOCS = {
    "GET /v1/ocpi/parties": Doc(
        "List the charge point operators",
        "The CPOs this EMP connects to over OCPI, each `pending` (token A handed out),"
        " `connected` or `unregistered`.",
        page("ocpi", "2-create-the-party-and-hand-over-token-a"),
        None,
        {"items": [{**OCPI_PARTY_OUT, "status": "connected", "token_a": None}]},
    ),
    "POST /v1/ocpi/parties": Doc(
        "Add a charge point operator",
        "A CPO to connect, with the credentials token A (shown once) to hand it out of band and the"
        " markup on its CDRs. Needs the EMP's own OCPI identity first.",
        page("ocpi", "2-create-the-party-and-hand-over-token-a"),
        {"country_code": "NL", "party_id": "EXA", "name": "Example Operator", "markup_bp": 500},
        OCPI_PARTY_OUT,
    ),
    "GET /v1/ocpi/unmatched-cdrs": Doc(
        "List parked CDRs",
        "CDRs whose token no customer of this EMP holds: kept, not charged, until assigned.",
        page("ocpi", "7-parked-cdrs"),
        None,
        {
            "items": [
                {
                    "id": "9b2f1c3e-2d4a-4b5c-8d6e-7f8091a2b3c4",
                    "session_id": "NL*EXA*CDR-12345",
                    "country_code": "NL",
                    "party_id": "EXA",
                    "party_name": "Example Operator",
                    "token_uid": "04A1B2C3D4E5F6",
                    "cost_minor": 1355,
                    "currency": "EUR",
                    "received_at": TIME,
                }
            ],
            "next_cursor": None,
        },
    ),
    "POST /v1/ocpi/unmatched-cdrs/{cdr_id}/assign": Doc(
        "Assign a parked CDR to a customer",
        "Records the parked CDR once as that customer's charging session and removes it from the"
        " list; assigning it again is 409.",
        page("ocpi", "7-parked-cdrs"),
        {"customer_id": CUSTOMER},
        {
            "id": "9b2f1c3e-2d4a-4b5c-8d6e-7f8091a2b3c4",
            "session_id": "NL*EXA*CDR-12345",
            "customer_id": CUSTOMER,
            "cost_minor": 1355,
        },
    ),
    "POST /v1/customers/{customer_id}/tokens": Doc(
        "Give a customer a charging token",
        "An RFID card or app token the CPOs pull over OCPI and authorize against; `uid` is unique"
        " in the EMP whatever its case.",
        page("ocpi", "4-drivers-tokens"),
        {
            "uid": "04A1B2C3D4E5F6",
            "type": "RFID",
            "contract_id": "FI-VLT-C00042",
            "visual_number": "VLT 0042",
        },
        TOKEN_OUT,
    ),
    "DELETE /v1/customers/{customer_id}/tokens/{uid}": Doc(
        "Invalidate a charging token",
        "The token stays listed to the CPOs with `valid: false`; authorizing it answers BLOCKED.",
        page("ocpi", "4-drivers-tokens"),
        None,
        {**TOKEN_OUT, "valid": False},
    ),
    "GET /ocpi/versions": Doc(
        "OCPI: the versions this eMSP speaks",
        "OCPI 2.2.1 and the URL of its endpoints; token A or the party's token C.",
        page("ocpi", "3-the-cpo-registers"),
        None,
        {**OCPI_OK, "data": [{"version": "2.2.1", "url": "https://ledger.example.com/ocpi/2.2.1"}]},
    ),
    "GET /ocpi/2.2.1": Doc(
        "OCPI: the 2.2.1 endpoints",
        "The modules of this eMSP: credentials, cdrs (receiver) and tokens (sender).",
        page("ocpi", "3-the-cpo-registers"),
        None,
        OCPI_OK,
    ),
    "GET /ocpi/2.2.1/credentials": Doc(
        "OCPI: the current credentials",
        "The credentials this eMSP gave the calling CPO.",
        page("ocpi", "3-the-cpo-registers"),
        None,
        OCPI_OK,
    ),
    "POST /ocpi/2.2.1/credentials": Doc(
        "OCPI: register with token A",
        "The CPO sends its token B and versions URL; the ledger fetches its endpoints with token B"
        " and answers its own credentials with a new token C. Unreachable CPO: status 3001.",
        page("ocpi", "3-the-cpo-registers"),
        OCPI_CREDENTIALS,
        OCPI_OK,
    ),
    "PUT /ocpi/2.2.1/credentials": Doc(
        "OCPI: rotate the credentials",
        "New credentials of the CPO; the answer holds a new token C and the old one stops working.",
        page("ocpi", "3-the-cpo-registers"),
        OCPI_CREDENTIALS,
        OCPI_OK,
    ),
    "DELETE /ocpi/2.2.1/credentials": Doc(
        "OCPI: unregister",
        "Ends the connection for good: token C stops working; a new party reconnects.",
        page("ocpi", "3-the-cpo-registers"),
        None,
        OCPI_OK,
    ),
    "POST /ocpi/2.2.1/cdrs": Doc(
        "OCPI: push a CDR",
        "Recorded once per CDR id as the token holder's charging session (decimal amounts exactly,"
        " the party's markup half-even); a credit CDR credits the original's customer; an unknown"
        " token parks it. Refusals are HTTP 200 with status 2001.",
        page("ocpi", "6-what-happens-to-each-cdr"),
        OCPI_CDR,
        OCPI_OK,
    ),
    "GET /ocpi/2.2.1/cdrs/{cdr_id}": Doc(
        "OCPI: read a pushed CDR",
        "The CDR as it was received (the URL of the `Location` header).",
        page("ocpi", "6-what-happens-to-each-cdr"),
        None,
        {**OCPI_OK, "data": OCPI_CDR},
    ),
    "GET /ocpi/2.2.1/tokens": Doc(
        "OCPI: pull the tokens",
        "Every token of this EMP's customers, invalid ones with `valid: false`, with OCPI"
        " pagination (`offset`, `limit`, `Link`, `X-Total-Count`).",
        page("ocpi", "4-drivers-tokens"),
        None,
        {**OCPI_OK, "data": []},
    ),
    "POST /ocpi/2.2.1/tokens/{token_uid}/authorize": Doc(
        "OCPI: authorize a token in real time",
        "ALLOWED, NO_CREDIT or BLOCKED, decided as `/v1/customers/{id}/authorize` decides; an unknown"
        " uid is HTTP 404 with status 2004.",
        page("ocpi", "5-real-time-authorization"),
        {"location_id": "LOC1", "evse_uids": ["3256"]},
        OCPI_OK,
    ),
}
OPERATIONS.update(OCPI_DOCS)

# Examples of the path parameters, by name.
PARAMETERS = {
    "emp_id": EMP,
    "customer_id": CUSTOMER,
    "subscription_id": SUBSCRIPTION,
    "package_id": PACKAGE,
    "invoice_id": INVOICE,
    "endpoint_id": ENDPOINT,
    "message_id": MESSAGE,
    "job": "invoice-production",
    "credit_note_id": CREDIT_NOTE,
    "cdr_id": "CDR-12345",
    "uid": "04A1B2C3D4E5F6",
    "token_uid": "04A1B2C3D4E5F6",
    "key_id": KEY,
}


def document_operations(app: Litestar) -> None:
    """On startup: the summaries, descriptions and examples into the generated document. They
    go into the document as served (a dict): the spec objects drop every null when they are
    turned into one, and the examples have nulls."""
    apply(app.plugins.get(OpenAPIPlugin).provide_openapi_schema())


def apply(document: dict[str, Any]) -> None:
    for path, item in document.get("paths", {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            doc = OPERATIONS.get(f"{method.upper()} {path}")
            if method in item and doc is not None:
                _apply(item[method], doc)


def _apply(operation: dict[str, Any], doc: Doc) -> None:
    operation["summary"] = doc.summary
    operation["description"] = f"{doc.description}\n\nMore in the repository's docs/{doc.page}."
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path" and parameter.get("name") in PARAMETERS:
            parameter["example"] = PARAMETERS[parameter["name"]]
    responses = operation.setdefault("responses", {})
    body = operation.get("requestBody")
    if body is not None and "415" not in responses and "400" in responses:
        responses["415"] = {**responses["400"], "description": PROBLEM_DESCRIPTIONS[415]}
    if doc.request is not None and body is not None:
        for media in body.get("content", {}).values():
            media["examples"] = {"example": {"summary": "an example", "value": doc.request}}
    if doc.response is None:
        return
    status = next((status for status in responses if status.startswith("2")), None)
    if status is None:
        return
    for media_type, media in responses[status].get("content", {}).items():
        if media_type != "application/x-ndjson":
            media["examples"] = {"example": {"summary": "an example", "value": doc.response}}
