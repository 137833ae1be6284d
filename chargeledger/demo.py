"""`chargeledger demo`: an EMP on a test clock, a catalog and a few hundred customers of both
types, months of charging with the EMP's clock moved day by day (so its batch jobs run every
night as the scheduler would), and a summary at the end."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, TextIO
from uuid import UUID

from api.keys import issue_key
from chargeledger.progress import Bar, progress_bar
from chargeledger.system import System
from commands.handlers import handle
from commands.messages import (
    ChangeCustomer,
    ChangeEmp,
    DefinePackage,
    IssueCreditNote,
    PurchasePackage,
    RecordInvoicePayment,
    RecordSession,
    Register,
    RegisterEmp,
    TopUpBalance,
)
from commands.payment_worker import PendingPaymentWorker
from commands.unit_of_work import Registered
from domain.aggregates import PaymentCard
from domain.errors import DomainError
from domain.money import format_amount
from projections import queries

CATALOG = [
    ("BASIC", "Basic prepaid", "base", True, "prepaid", 490),
    ("FLEX", "Flex postpaid", "base", True, "postpaid", 990),
    ("NIGHT", "Night rate", "bolt_on", True, "postpaid", 300),
    ("ROAM", "Roaming week", "bolt_on", False, "any", 500),
    ("TOPUP20", "Top-up 20", "top_up", False, "prepaid", 2000),
]
CARDS = {
    "visa": PaymentCard("tok_visa", "visa", "4242", 12, 2030),
    "mastercard": PaymentCard("tok_mastercard", "mastercard", "4444", 6, 2031),
    "failing": PaymentCard("tok_chargeCustomerFail", "visa", "0341", 3, 2030),
}
ACTOR = "process:demo"


@dataclass
class DemoCustomer:
    id: UUID
    account_type: str
    subscription_id: UUID | None


@dataclass
class Tally:
    sessions: int = 0
    purchases: int = 0
    manual_top_ups: int = 0
    refused: dict[str, int] = field(default_factory=dict)


# The demo EMP's seller details and its postpaid customers' billing details: every invoice
# and credit note it issues is a complete Peppol BIS 3 document (GET /v1/invoices/{id}/ubl).
SELLER = {
    "legal_name": "Demo Charging Oy",
    "vat_id": "FI12345678",
    "address": {"line1": "Mannerheimintie 1", "city": "Helsinki", "postal_code": "00100", "country": "FI"},
    "electronic_address": {"scheme": "0216", "id": "003712345678"},
    "payment_terms_days": 14,
    "iban": "FI2112345600000785",
}


def billing_of(n: int) -> dict[str, Any]:
    return {
        "address": {"line1": f"Testikatu {n + 1}", "city": "Espoo", "postal_code": "02100", "country": "FI"},
        "electronic_address": {"scheme": "0216", "id": f"0037{n:08d}"},
    }


def run_demo(
    system: System,
    *,
    customers: int,
    days: int,
    seed: int,
    support_url: str = "http://127.0.0.1:8000",
    out: TextIO = sys.stdout,
) -> dict[str, Any]:
    """Simulate, print the summary and a support key to `out` (progress goes to stderr). The
    EMP's test clock starts `days` + 2 days ago and ends near now."""
    if customers < 1 or days < 1:
        raise ValueError("a demo needs at least one customer and one day")
    with progress_bar("registering customers", total=customers + days, unit="steps") as bar:
        emp, tally = _simulate(system, customers, days, seed, bar)
    system.catch_up()
    summary = _summary(system, emp, tally)
    support_key = issue_key(system.pool, emp, "support")
    _print_summary(summary, support_key, support_url.rstrip("/"), out)
    return summary


def _simulate(system: System, customers: int, days: int, seed: int, bar: Bar) -> tuple[UUID, Tally]:
    rng = random.Random(seed)
    do = lambda command: handle(command, system.services)  # noqa: E731
    tally = Tally()
    start = datetime.combine(datetime.now(UTC).date() - timedelta(days=days + 2), time(9), tzinfo=UTC)
    name = f"Demo EMP {datetime.now(UTC):%Y-%m-%d %H%M%S}"
    emp = do(RegisterEmp(name, "EUR", 1000, 3000, ACTOR, vat_rate_bp=2550, test_clock_now=start)).id
    do(ChangeEmp(emp, {"seller": SELLER}, ACTOR))

    def move_clock(to: datetime) -> None:
        system.advance_test_clock(emp, to, run_jobs=True, actor=ACTOR)

    for code, name, kind, recurring, payment, price in CATALOG:
        do(DefinePackage(emp, code, name, kind, recurring, payment, price, ACTOR))

    people: list[DemoCustomer] = []
    payments = PendingPaymentWorker(
        system.services,
        lambda cutoff: queries.pending_card_payments(system.pool, automatic_only_before=cutoff),
    )
    for n in range(customers):
        prepaid = rng.random() < 0.6
        card = rng.choices(list(CARDS), weights=[6, 3, 1])[0] if prepaid or rng.random() < 0.5 else None
        move_clock(start + timedelta(minutes=n))
        outcome = do(
            Register(
                emp_id=emp,
                name=f"Driver {n:04d}",
                email=f"driver{n:04d}@example.com",
                account_type="prepaid" if prepaid else "postpaid",
                card=CARDS[card] if card else None,
                auto_top_up=prepaid and card is not None and rng.random() < 0.7,
                base_package="BASIC" if prepaid else "FLEX",
                actor=ACTOR,
            )
        )
        assert isinstance(outcome, Registered)
        people.append(DemoCustomer(outcome.id, "prepaid" if prepaid else "postpaid", outcome.subscription_id))
        if not prepaid:
            do(ChangeCustomer(emp, outcome.id, {"billing": billing_of(n)}, ACTOR))
        if prepaid and card:
            _try(tally, do, TopUpBalance(emp, outcome.id, rng.choice([1000, 2000, 3000]), ACTOR))
        bar.advance("registering customers")

    session_number = 0
    for day in range(days):
        midnight = datetime.combine((start + timedelta(days=day + 1)).date(), time(0), tzinfo=UTC)
        move_clock(midnight + timedelta(days=1))  # the day has passed: its sessions have ended
        for person in people:
            if rng.random() < 0.35:
                session_number += 1
                ended = midnight + timedelta(hours=rng.randint(7, 21), minutes=rng.randint(0, 59))
                kwh = rng.randint(5, 60)
                if _try(tally, do, RecordSession(
                    emp, f"DEMO-{session_number:07d}", person.id, ended - timedelta(minutes=kwh * 2), ended,
                    kwh * 1000, kwh * rng.randint(25, 45), f"FI-DEMO-{rng.randint(1, 40):03d}", ACTOR,
                )):  # fmt: skip
                    tally.sessions += 1
            if rng.random() < 0.01 and person.subscription_id is not None:
                code = rng.choice(
                    ["ROAM", "TOPUP20"] if person.account_type == "prepaid" else ["ROAM", "NIGHT"]
                )
                if _try(tally, do, PurchasePackage(emp, person.subscription_id, code, ACTOR)):
                    tally.purchases += 1
            wants_top_up = person.account_type == "prepaid" and rng.random() < 0.02
            if wants_top_up and _try(tally, do, TopUpBalance(emp, person.id, 2000, ACTOR)):
                tally.manual_top_ups += 1
        system.catch_up()  # the card-payment worker's list is an asynchronous read model
        payments.run_once()
        bar.advance(f"day {day + 1} of {days}")
    move_clock(datetime.combine(start.date() + timedelta(days=days + 1), time(3), tzinfo=UTC))
    system.catch_up()
    collect(system, emp, rng, tally)
    return emp, tally


def collect(system: System, emp: UUID, rng: random.Random, tally: Tally) -> None:
    """What the EMP does with its invoices: a few are credited (in full or a line in part),
    most of the others paid (some in part)."""
    do = lambda command: handle(command, system.services)  # noqa: E731
    now = system.services.now_for(emp)
    after = 0
    while page := queries.invoices_page(system.pool, emp, customer_id=None, limit=500, after=after):
        after = page[-1]["sequence"]
        for invoice in page:
            roll, sequence = rng.random(), invoice["sequence"]
            if sequence % 7 == 2 and invoice["total_minor"] > 0:
                full = IssueCreditNote(emp, invoice["id"], "Charger fault", None, ACTOR, full=True)
                _try(tally, do, full)
            elif sequence % 5 == 4 and invoice["lines"][0]["amount_minor"] > 1:
                half = [{"line": 1, "amount_minor": invoice["lines"][0]["amount_minor"] // 2}]
                _try(tally, do, IssueCreditNote(emp, invoice["id"], "Goodwill", half, ACTOR))
            elif roll < 0.8 and invoice["total_minor"] > 0:
                amount = invoice["total_minor"] if roll < 0.6 else invoice["total_minor"] // 2
                _try(tally, do, RecordInvoicePayment(emp, invoice["id"], amount, now, "bank transfer", ACTOR))


def _try(tally: Tally, do: Any, command: object) -> bool:
    try:
        do(command)
    except DomainError as refusal:
        tally.refused[refusal.code] = tally.refused.get(refusal.code, 0) + 1
        return False
    return True


def _summary(system: System, emp: UUID, tally: Tally) -> dict[str, Any]:
    with system.pool.connection() as conn:

        def one(sql: str) -> Any:
            row = conn.execute(sql, (emp,)).fetchone()
            return row[0] if row else None

        return {
            "emp_name": one("SELECT name FROM emps WHERE id = %s"),
            "emp_id": str(emp),
            "customers": one("SELECT count(*) FROM customers WHERE emp_id = %s"),
            "prepaid_balance_minor": one(
                "SELECT coalesce(sum(balance_minor), 0)::bigint FROM customers"
                " WHERE emp_id = %s AND account_type = 'prepaid'"
            ),
            "postpaid_balance_minor": one(
                "SELECT coalesce(sum(balance_minor), 0)::bigint FROM customers"
                " WHERE emp_id = %s AND account_type = 'postpaid'"
            ),
            "sessions": tally.sessions,
            "purchases": tally.purchases,
            "manual_top_ups": tally.manual_top_ups,
            "automatic_top_ups": one(
                "SELECT count(*) FROM card_payments WHERE emp_id = %s AND purpose = 'automatic_top_up'"
                " AND status = 'approved'"
            ),
            "debits": one("SELECT count(*) FROM debits WHERE emp_id = %s"),
            "unpaid_debits": one("SELECT count(*) FROM debits WHERE emp_id = %s AND status = 'unpaid'"),
            "invoices": one("SELECT count(*) FROM invoices WHERE emp_id = %s"),
            "invoiced_minor": one(
                "SELECT coalesce(sum(total_minor), 0)::bigint FROM invoices WHERE emp_id = %s"
            ),
            "invoices_paid": one("SELECT count(*) FROM invoices WHERE emp_id = %s AND status = 'paid'"),
            "credit_notes": one("SELECT count(*) FROM credit_notes WHERE emp_id = %s"),
            "failed_payments": one(
                "SELECT count(*) FROM card_payments WHERE emp_id = %s AND status = 'declined'"
            ),
            "mails_queued": one("SELECT count(*) FROM mail_outbox WHERE emp_id = %s"),
            "mails_sent": one("SELECT count(*) FROM mail_outbox WHERE emp_id = %s AND status = 'sent'"),
            "refused_requests": tally.refused,
        }


MONEY = {"prepaid_balance_minor", "postpaid_balance_minor", "invoiced_minor"}


def _shown(key: str, value: Any) -> str:
    if key in MONEY:
        return format_amount(value, "EUR")
    if isinstance(value, dict):
        return ", ".join(f"{count} {code}" for code, count in sorted(value.items())) or "none"
    return str(value)


def _print_summary(summary: dict[str, Any], support_key: str, support_url: str, out: TextIO) -> None:
    out.write(f"chargeledger demo summary: {summary['emp_name']}\n")
    for key, value in summary.items():
        if key != "emp_name":
            out.write(f"  {key.replace('_minor', '').replace('_', ' '):<24} {_shown(key, value)}\n")
    out.write(
        "\nLook at it on the support page (with `make run` or `chargeledger serve` running):\n"
        f"  support page             {support_url}/support\n"
        f"  support key              {support_key}\n"
        f"  sessions as CSV          chargeledger export sessions --emp {summary['emp_id']}\n"
    )
    out.flush()
