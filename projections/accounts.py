"""The accounts read model, written inline: EMPs, customers with balance, card and automatic
top-up; every balance movement as a transaction; sessions.

These are the tables a write's own answer and the very next read depend on, so they are written
in the transaction that records the events (`statements`, run by the event store's recorder),
and by the same code over the whole log when they are rebuilt. Nothing else writes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID, uuid5

from psycopg import Cursor

from domain.aggregates import Customer, CustomerToken, Emp, OcpiParty, ReceivedCdr
from domain.instants import utc_text
from projections.folding import fold
from projections.rows import Statement, TableBatch

# The emp of a customer registered before this batch, for the rows the batch adds.
EMP_OF_CUSTOMER = "coalesce(v.emp_id, (SELECT c.emp_id FROM customers c WHERE c.id = v.customer_id))"
INLINE_TABLES = (
    "emps",
    "customers",
    "transactions",
    "sessions",
    "ocpi_parties",
    "customer_tokens",
    "ocpi_cdrs",
)


class AccountsBatch:
    """What one batch of events changes in each table."""

    def __init__(self, emp_of: dict[UUID, UUID] | None = None) -> None:
        self.emps = TableBatch(
            "emps",
            {
                "id": "uuid",
                "name": "text",
                "currency": "text",
                "auto_top_up_threshold_minor": "bigint",
                "auto_top_up_amount_minor": "bigint",
                "created_at": "timestamptz",
                "time_zone": "text",
                "test_clock_now": "timestamptz",
                "ocpi_country_code": "text",
                "ocpi_party_id": "text",
            },
            key=["id"],
        )
        self.customers = TableBatch(
            "customers",
            {
                "id": "uuid",
                "emp_id": "uuid",
                "name": "text",
                "email": "text",
                "account_type": "text",
                "currency": "text",
                "external_ref": "text",
                "balance_minor": "bigint",
                "card_brand": "text",
                "card_last4": "text",
                "card_exp_month": "integer",
                "card_exp_year": "integer",
                "auto_top_up_enabled": "boolean",
                "auto_top_up_threshold_minor": "bigint",
                "auto_top_up_amount_minor": "bigint",
                "created_at": "timestamptz",
                "updated_at": "timestamptz",
                "version": "integer",
                "billing_json": "text",
                "dunning_json": "text",
                "name_folded": "text",
                "email_folded": "text",
            },
            key=["id"],
        )
        self.transactions = TableBatch(
            "transactions",
            {
                "id": "uuid",
                "customer_id": "uuid",
                "emp_id": "uuid",
                "sequence": "integer",
                "type": "text",
                "amount_minor": "bigint",
                "balance_after_minor": "bigint",
                "occurred_at": "timestamptz",
                "recorded_at": "timestamptz",
                "reference": "text",
                "description": "text",
            },
            key=["id"],
            derived={"emp_id": EMP_OF_CUSTOMER},
        )
        self.sessions = TableBatch(
            "sessions",
            {
                "customer_id": "uuid",
                "session_id": "text",
                "emp_id": "uuid",
                "started_at": "timestamptz",
                "ended_at": "timestamptz",
                "energy_wh": "bigint",
                "cost_minor": "bigint",
                "location": "text",
                "recorded_at": "timestamptz",
                "invoice_id": "uuid",
            },
            key=["customer_id", "session_id"],
            derived={"emp_id": EMP_OF_CUSTOMER},
        )
        self.ocpi_parties = TableBatch(
            "ocpi_parties",
            {
                "id": "uuid",
                "emp_id": "uuid",
                "country_code": "text",
                "party_id": "text",
                "name": "text",
                "markup_bp": "integer",
                "status": "text",
                "token_a_sha256": "text",
                "token_c_sha256": "text",
                "versions_url": "text",
                "created_at": "timestamptz",
                "updated_at": "timestamptz",
            },
            key=["id"],
        )
        self.customer_tokens = TableBatch(
            "customer_tokens",
            {
                "id": "uuid",
                "emp_id": "uuid",
                "customer_id": "uuid",
                "uid": "text",
                "type": "text",
                "contract_id": "text",
                "visual_number": "text",
                "valid": "boolean",
                "created_at": "timestamptz",
                "last_updated": "timestamptz",
            },
            key=["id"],
        )
        self.ocpi_cdrs = TableBatch(
            "ocpi_cdrs",
            {
                "id": "uuid",
                "emp_id": "uuid",
                "party": "uuid",
                "session_id": "text",
                "token_uid": "text",
                "customer_id": "uuid",
                "credit": "boolean",
                "cost_minor": "bigint",
                "currency": "text",
                "body": "text",
                "received_at": "timestamptz",
                "assigned_at": "timestamptz",
            },
            key=["id"],
        )
        # The emps of customers known to the batch (those it registers, or every one a rebuild
        # has seen): their rows' emp needs no lookup.
        self.emp_of: dict[UUID, UUID] = {} if emp_of is None else emp_of

    @property
    def tables(self) -> tuple[TableBatch, ...]:
        return (
            self.emps,
            self.customers,
            self.transactions,
            self.sessions,
            self.ocpi_parties,
            self.customer_tokens,
            self.ocpi_cdrs,
        )

    def statements(self) -> list[Statement]:
        return [statement for table in self.tables for statement in table.statements()]

    def write(self, cursor: Cursor[Any]) -> None:
        for table in self.tables:
            table.write(cursor)


Handler = Callable[[Any, AccountsBatch], None]


class AccountsProjection:
    name = "accounts"

    def __init__(self) -> None:
        self._handlers: dict[type, Handler | None] = {}

    def statements(self, events: Sequence[Any]) -> list[Statement]:
        """What these events change, one INSERT and one UPDATE per table at most."""
        return self.batch(events).statements()

    def batch(self, events: Sequence[Any], emp_of: dict[UUID, UUID] | None = None) -> AccountsBatch:
        batch = AccountsBatch(emp_of)
        for event in events:
            handler = self._handler(type(event))
            if handler is not None:
                handler(event, batch)
        return batch

    def _handler(self, kind: type) -> Handler | None:
        if kind not in self._handlers:
            self._handlers[kind] = next(
                (handler for cls, handler in HANDLERS.items() if issubclass(kind, cls)), None
            )
        return self._handlers[kind]

    def reset(self, cursor: Cursor[Any]) -> None:
        """Empty the tables (a rebuild from zero, inside the rebuild's transaction)."""
        cursor.execute(f"TRUNCATE {', '.join(INLINE_TABLES)}")


def _emp_registered(e: Emp.Registered, batch: AccountsBatch) -> None:
    batch.emps.insert(
        {
            "id": e.originator_id,
            "name": e.name,
            "currency": e.currency,
            "auto_top_up_threshold_minor": e.auto_top_up_threshold_minor,
            "auto_top_up_amount_minor": e.auto_top_up_amount_minor,
            "created_at": e.timestamp,
            "time_zone": e.time_zone,
            "test_clock_now": e.test_clock_now,
            "ocpi_country_code": e.ocpi_country_code,
            "ocpi_party_id": e.ocpi_party_id,
        }
    )


EMP_COLUMNS = (
    "name",
    "time_zone",
    "auto_top_up_threshold_minor",
    "auto_top_up_amount_minor",
    "ocpi_country_code",
    "ocpi_party_id",
)


def _emp_changed(e: Emp.Changed, batch: AccountsBatch) -> None:
    changed = {name: value for name, value in e.changes.items() if name in EMP_COLUMNS}
    if changed:
        batch.emps.change((e.originator_id,), **changed)


def _test_clock_advanced(e: Emp.TestClockAdvanced, batch: AccountsBatch) -> None:
    batch.emps.change((e.originator_id,), test_clock_now=e.now)


def _customer_registered(e: Customer.Registered, batch: AccountsBatch) -> None:
    batch.emp_of[e.originator_id] = e.emp_id
    batch.customers.insert(
        {
            "id": e.originator_id,
            "emp_id": e.emp_id,
            "name": e.name,
            "email": e.email,
            "name_folded": _folded(e.name),
            "email_folded": _folded(e.email),
            "account_type": e.account_type,
            "currency": e.currency,
            "external_ref": e.external_ref,
            "balance_minor": 0,
            "auto_top_up_enabled": False,
            "auto_top_up_threshold_minor": e.auto_top_up_threshold_minor,
            "auto_top_up_amount_minor": e.auto_top_up_amount_minor,
            "created_at": e.timestamp,
            "updated_at": e.timestamp,
            "version": e.originator_version,
        }
    )


def _customer_changed(e: Customer.Event, batch: AccountsBatch, **values: Any) -> None:
    batch.customers.change((e.originator_id,), updated_at=e.timestamp, version=e.originator_version, **values)


def _card_stored(e: Customer.PaymentCardStored, batch: AccountsBatch) -> None:
    _customer_changed(
        e, batch, card_brand=e.brand, card_last4=e.last4, card_exp_month=e.exp_month, card_exp_year=e.exp_year
    )


def _card_removed(e: Customer.PaymentCardRemoved, batch: AccountsBatch) -> None:
    _customer_changed(e, batch, card_brand=None, card_last4=None, card_exp_month=None, card_exp_year=None)


def _consent_given(e: Customer.AutoTopUpConsentGiven, batch: AccountsBatch) -> None:
    _customer_changed(
        e,
        batch,
        auto_top_up_enabled=True,
        auto_top_up_threshold_minor=e.threshold_minor,
        auto_top_up_amount_minor=e.amount_minor,
    )


def _consent_withdrawn(e: Customer.AutoTopUpConsentWithdrawn, batch: AccountsBatch) -> None:
    _customer_changed(e, batch, auto_top_up_enabled=False)


def _balance_moved(e: Customer.BalanceMoved, batch: AccountsBatch) -> None:
    _customer_changed(e, batch, balance_minor=e.balance_after_minor)
    batch.transactions.insert(
        {
            "id": uuid5(e.originator_id, str(e.originator_version)),
            "customer_id": e.originator_id,
            "emp_id": batch.emp_of.get(e.originator_id),
            "sequence": e.originator_version,
            "type": e.kind,
            "amount_minor": e.amount_minor,
            "balance_after_minor": e.balance_after_minor,
            "occurred_at": e.occurred_at,
            "recorded_at": e.timestamp,
            "reference": e.reference(),
            "description": e.description(),
        }
    )


def _session_charged(e: Customer.SessionCharged, batch: AccountsBatch) -> None:
    _balance_moved(e, batch)
    batch.sessions.insert(
        {
            "customer_id": e.originator_id,
            "session_id": e.session_id,
            "emp_id": batch.emp_of.get(e.originator_id),
            "started_at": e.started_at,
            "ended_at": e.ended_at,
            "energy_wh": e.energy_wh,
            "cost_minor": -e.amount_minor,
            "location": e.location,
            "recorded_at": e.timestamp,
            "invoice_id": None,
        }
    )


def _sessions_invoiced(e: Customer.SessionsInvoiced, batch: AccountsBatch) -> None:
    _customer_changed(e, batch)
    for session_id in e.session_ids:
        batch.sessions.change((e.originator_id, session_id), invoice_id=e.invoice_id)


def _party_created(e: OcpiParty.Created, batch: AccountsBatch) -> None:
    batch.ocpi_parties.insert(
        {
            "id": e.originator_id,
            "emp_id": e.emp_id,
            "country_code": e.country_code,
            "party_id": e.party_id,
            "name": e.name,
            "markup_bp": e.markup_bp,
            "status": "pending",
            "token_a_sha256": e.token_a_sha256,
            "token_c_sha256": None,
            "versions_url": None,
            "created_at": e.timestamp,
            "updated_at": e.timestamp,
        }
    )


def _party_connected(e: OcpiParty.Connected, batch: AccountsBatch) -> None:
    batch.ocpi_parties.change(
        (e.originator_id,),
        status="connected",
        token_c_sha256=e.token_c_sha256,
        versions_url=e.versions_url,
        updated_at=e.timestamp,
    )


def _party_unregistered(e: OcpiParty.Unregistered, batch: AccountsBatch) -> None:
    batch.ocpi_parties.change((e.originator_id,), status="unregistered", updated_at=e.timestamp)


def _token_issued(e: CustomerToken.Issued, batch: AccountsBatch) -> None:
    batch.customer_tokens.insert(
        {
            "id": e.originator_id,
            "emp_id": e.emp_id,
            "customer_id": e.customer_id,
            "uid": e.uid,
            "type": e.type,
            "contract_id": e.contract_id,
            "visual_number": e.visual_number,
            "valid": True,
            "created_at": e.timestamp,
            "last_updated": e.occurred_at,
        }
    )


def _token_invalidated(e: CustomerToken.Invalidated, batch: AccountsBatch) -> None:
    batch.customer_tokens.change((e.originator_id,), valid=False, last_updated=e.occurred_at)


def _cdr_received(e: ReceivedCdr.Received, batch: AccountsBatch) -> None:
    batch.ocpi_cdrs.insert(
        {
            "id": e.originator_id,
            "emp_id": e.emp_id,
            "party": e.party,
            "session_id": e.session_id,
            "token_uid": e.token_uid,
            "customer_id": e.customer_id,
            "credit": e.credit,
            "cost_minor": e.cost_minor,
            "currency": e.currency,
            "body": e.body,
            "received_at": e.timestamp,
            "assigned_at": None,
        }
    )


def _cdr_assigned(e: ReceivedCdr.Assigned, batch: AccountsBatch) -> None:
    batch.ocpi_cdrs.change((e.originator_id,), customer_id=e.customer_id, assigned_at=e.timestamp)


def _details_changed(e: Customer.DetailsChanged, batch: AccountsBatch) -> None:
    values: dict[str, Any] = {n: e.changes[n] for n in ("name", "email", "external_ref") if n in e.changes}
    for name in ("name", "email"):
        if name in values:
            values[f"{name}_folded"] = _folded(values[name])
    if "billing" in e.changes:
        values["billing_json"] = None if e.changes["billing"] is None else json.dumps(e.changes["billing"])
    _customer_changed(e, batch, **values)


def _dunning_step(e: Customer.DunningStepTaken, batch: AccountsBatch) -> None:
    dunning = {"since": utc_text(e.since), "step": e.step, "overdue_minor": e.overdue_minor}
    dunning["blocked"] = e.blocked
    _customer_changed(e, batch, dunning_json=json.dumps(dunning))


def _dunning_ended(e: Customer.DunningEnded, batch: AccountsBatch) -> None:
    _customer_changed(e, batch, dunning_json=None)


def _personal_data_erased(e: Customer.PersonalDataErased, batch: AccountsBatch) -> None:
    _customer_changed(e, batch, **dict.fromkeys(("name", "email", *FOLDED, "billing_json", *CARD_DETAILS)))


FOLDED = ("name_folded", "email_folded")


def _folded(text: str | None) -> str | None:
    """Folded for search; None for a field that is gone (erased personal data reads as None)."""
    return None if text is None else fold(text)


CARD_DETAILS = ("card_brand", "card_last4", "card_exp_month", "card_exp_year")


def _other_customer_event(e: Customer.Event, batch: AccountsBatch) -> None:
    _customer_changed(e, batch)


# Most specific first: the first class an event is an instance of handles it.
HANDLERS: dict[type, Handler] = {
    Emp.Registered: _emp_registered,
    Emp.Changed: _emp_changed,
    Emp.TestClockAdvanced: _test_clock_advanced,
    OcpiParty.Created: _party_created,
    OcpiParty.Connected: _party_connected,  # CredentialsUpdated too
    OcpiParty.Unregistered: _party_unregistered,
    CustomerToken.Issued: _token_issued,
    CustomerToken.Invalidated: _token_invalidated,
    ReceivedCdr.Received: _cdr_received,
    ReceivedCdr.Assigned: _cdr_assigned,
    Customer.Registered: _customer_registered,
    Customer.PaymentCardStored: _card_stored,
    Customer.PaymentCardRemoved: _card_removed,
    Customer.AutoTopUpConsentGiven: _consent_given,
    Customer.AutoTopUpConsentWithdrawn: _consent_withdrawn,
    Customer.SessionCharged: _session_charged,
    Customer.BalanceMoved: _balance_moved,
    Customer.SessionsInvoiced: _sessions_invoiced,
    Customer.DetailsChanged: _details_changed,
    Customer.DunningStepTaken: _dunning_step,
    Customer.DunningEnded: _dunning_ended,
    Customer.PersonalDataErased: _personal_data_erased,
    Customer.Event: _other_customer_event,
}
