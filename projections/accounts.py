"""The accounts read model: EMPs, customers with balance, card and automatic top-up; every
balance movement as a transaction; sessions; card payments and their status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID, uuid5

from psycopg import Cursor

from domain.aggregates import ChargingSession, Customer, Emp
from domain.notifications import NOTIFIED_PURPOSES, payment_failure_mail
from projections.view import ReadModelProjection, Statement, in_pipeline

# The transaction-list type of each balance movement.
TRANSACTION_TYPES: dict[type, str] = {
    Customer.SessionCharged: "session",
    Customer.TopUpApplied: "top_up",
    Customer.PrepaymentDebited: "prepayment",
    Customer.PaymentTaken: "payment",
    Customer.AdjustmentRecorded: "adjustment",
}


def transaction_reference(e: Customer.BalanceMoved) -> str | None:
    if isinstance(e, Customer.SessionCharged):
        return e.session_id
    if isinstance(e, Customer.PrepaymentDebited):
        return e.package_code
    if isinstance(e, Customer.TopUpApplied | Customer.PaymentTaken):
        return str(e.payment_id)
    if isinstance(e, Customer.AdjustmentRecorded):
        return e.reason
    return getattr(e, "reference", None)


COPY_FROM_ROWS = 64
# A read-model table: its name and its (column, SQL type) pairs.
Table = tuple[str, tuple[tuple[str, str], ...]]
TRANSACTIONS: Table = (
    "transactions",
    (
        ("id", "uuid"),
        ("customer_id", "uuid"),
        ("emp_id", "uuid"),
        ("sequence", "integer"),
        ("type", "text"),
        ("amount_minor", "bigint"),
        ("balance_after_minor", "bigint"),
        ("occurred_at", "timestamptz"),
        ("recorded_at", "timestamptz"),
        ("reference", "text"),
    ),
)
SESSIONS: Table = (
    "sessions",
    (
        ("emp_id", "uuid"),
        ("session_id", "text"),
        ("customer_id", "uuid"),
        ("started_at", "timestamptz"),
        ("ended_at", "timestamptz"),
        ("energy_wh", "bigint"),
        ("cost_minor", "bigint"),
        ("location", "text"),
        ("recorded_at", "timestamptz"),
    ),
)


def insert_rows(cursor: Cursor[Any], table: Table, rows: list[Any]) -> None:
    """Insert many rows: by COPY when there are many and the cursor is not in a pipeline (a
    catch-up's or a rebuild's), else with one statement (`rows_statement`)."""
    if len(rows) >= COPY_FROM_ROWS and not in_pipeline(cursor):
        name, columns = table
        names = ", ".join(column for column, _ in columns)
        instants = [n for n, (_, sql_type) in enumerate(columns) if sql_type == "timestamptz"]
        with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = list(row)
                for n in instants:
                    values[n] = in_utc([values[n]])[0]
                copy.write_row(values)
        return
    statement = rows_statement(table, rows)
    if statement is not None:
        cursor.execute(*statement)


def rows_statement(table: Table, rows: list[Any]) -> Statement | None:
    """Many rows inserted by ONE statement, one array per column: as cheap for 3 rows as for
    300 (a statement per row costs the client more than the database)."""
    if not rows:
        return None
    name, columns = table
    names = ", ".join(column for column, _ in columns)
    arrays = ", ".join(f"%s::{sql_type}[]" for _, sql_type in columns)
    return (
        f"INSERT INTO {name} ({names}) SELECT * FROM unnest({arrays})",
        [
            in_utc(values) if sql_type == "timestamptz" else list(values)
            for (_, sql_type), values in zip(columns, zip(*rows, strict=True), strict=True)
        ],
    )


def in_utc(instants: Sequence[datetime | None]) -> list[datetime | None]:
    """Arrays go as text: an instant keeps its UTC offset there, and PostgreSQL refuses offsets
    beyond 15:59 that a charge point may send (as it accepts the same instant in UTC)."""
    return [None if instant is None else instant.astimezone(UTC) for instant in instants]


class AccountsProjection(ReadModelProjection):
    """Balance movements and sessions, the bulk of the log, are buffered through a batch and
    written with COPY at its end; everything else is written as it comes."""

    name = "accounts"

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self._emp_of: dict[UUID, UUID] = {}
        self.begin_batch()

    def begin_batch(self) -> None:
        self._movements: list[tuple[Any, ...]] = []
        self._sessions: list[tuple[Any, ...]] = []
        self._balances: dict[UUID, tuple[int, int, Any]] = {}

    def flush_statements(self) -> list[Statement]:
        statements = [
            rows_statement(TRANSACTIONS, self._movements),
            rows_statement(SESSIONS, self._sessions),
            self._balances_statement(),
        ]
        return [statement for statement in statements if statement is not None]

    def flush(self, cursor: Cursor[Any]) -> None:
        insert_rows(cursor, TRANSACTIONS, self._movements)
        insert_rows(cursor, SESSIONS, self._sessions)
        balances = self._balances_statement()
        if balances is not None:
            cursor.execute(*balances)
        self.begin_batch()

    def _balances_statement(self) -> Statement | None:
        if not self._balances:
            return None
        # Other events of the batch may have moved version and updated_at further already.
        ids, balances, versions, times = zip(
            *((customer, *latest) for customer, latest in self._balances.items()), strict=True
        )
        return (
            "UPDATE customers c SET balance_minor = v.balance, version = GREATEST(c.version, v.version),"
            " updated_at = GREATEST(c.updated_at, v.at)"
            " FROM unnest(%s::uuid[], %s::bigint[], %s::integer[], %s::timestamptz[])"
            " AS v(id, balance, version, at)"
            " WHERE c.id = v.id",
            [list(ids), list(balances), list(versions), in_utc(times)],
        )

    def emp_of(self, customer_id: UUID, cursor: Cursor[Any]) -> UUID:
        emp_id = self._emp_of.get(customer_id)
        if emp_id is None:
            reader = cursor.connection.cursor()  # its own cursor: the batch runs in a pipeline
            reader.execute("SELECT emp_id FROM customers WHERE id = %s", (customer_id,))
            row = reader.fetchone()
            if row is None:
                raise LookupError(f"customer {customer_id} is not in the read model")
            emp_id = row["emp_id"] if isinstance(row, dict) else row[0]
            self._remember(customer_id, emp_id)
        return emp_id

    def _remember(self, customer_id: UUID, emp_id: UUID) -> None:
        if len(self._emp_of) > 200_000:
            self._emp_of.clear()
        self._emp_of[customer_id] = emp_id

    @singledispatchmethod
    def apply(self, domain_event: Any, cursor: Cursor[Any]) -> None:
        """Events of no interest here: tracked, not applied."""

    @apply.register
    def _(self, e: Emp.Registered, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO emps (id, name, currency, auto_top_up_threshold_minor,"
            " auto_top_up_amount_minor, created_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                e.originator_id,
                e.name,
                e.currency,
                e.auto_top_up_threshold_minor,
                e.auto_top_up_amount_minor,
                e.timestamp,
            ),
        )

    @apply.register
    def _(self, e: Customer.Registered, cursor: Cursor[Any]) -> None:
        self._remember(e.originator_id, e.emp_id)
        cursor.execute(
            "INSERT INTO customers (id, emp_id, name, email, account_type, currency, external_ref,"
            " auto_top_up_threshold_minor, auto_top_up_amount_minor, created_at, updated_at,"
            " version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                e.originator_id,
                e.emp_id,
                e.name,
                e.email,
                e.account_type,
                e.currency,
                e.external_ref,
                e.auto_top_up_threshold_minor,
                e.auto_top_up_amount_minor,
                e.timestamp,
                e.timestamp,
                e.originator_version,
            ),
        )

    @apply.register
    def _(self, e: Customer.PaymentCardStored, cursor: Cursor[Any]) -> None:
        _update_customer(
            cursor,
            e,
            "card_brand = %s, card_last4 = %s, card_exp_month = %s, card_exp_year = %s",
            (e.brand, e.last4, e.exp_month, e.exp_year),
        )

    @apply.register
    def _(self, e: Customer.PaymentCardRemoved, cursor: Cursor[Any]) -> None:
        _update_customer(
            cursor,
            e,
            "card_brand = NULL, card_last4 = NULL, card_exp_month = NULL, card_exp_year = NULL",
            (),
        )

    @apply.register
    def _(self, e: Customer.AutoTopUpConsentGiven, cursor: Cursor[Any]) -> None:
        _update_customer(
            cursor,
            e,
            "auto_top_up_enabled = true, auto_top_up_threshold_minor = %s, auto_top_up_amount_minor = %s",
            (e.threshold_minor, e.amount_minor),
        )

    @apply.register
    def _(self, e: Customer.AutoTopUpConsentWithdrawn, cursor: Cursor[Any]) -> None:
        _update_customer(cursor, e, "auto_top_up_enabled = false", ())

    @apply.register
    def _(self, e: Customer.BalanceMoved, cursor: Cursor[Any]) -> None:
        self.record_movement(e, cursor)

    @apply.register
    def _(self, e: Customer.PrepaymentDebited, cursor: Cursor[Any]) -> None:
        self.record_movement(e, cursor)
        cursor.execute(
            "INSERT INTO debits (debit_id, customer_id, emp_id, package_code, amount_minor, due_at,"
            " status, settled_by, settled_at) SELECT %s, id, emp_id, %s, %s, %s, %s, %s, %s"
            " FROM customers WHERE id = %s",
            (
                e.debit_id,
                e.package_code,
                -e.amount_minor,
                e.period_start or e.occurred_at,
                "unpaid" if e.settled_by is None else "paid",
                e.settled_by,
                None if e.settled_by is None else e.occurred_at,
                e.originator_id,
            ),
        )

    def record_movement(self, e: Customer.BalanceMoved, cursor: Cursor[Any]) -> None:
        self._balances[e.originator_id] = (e.balance_after_minor, e.originator_version, e.timestamp)
        self._movements.append(
            (
                uuid5(e.originator_id, str(e.originator_version)),
                e.originator_id,
                self.emp_of(e.originator_id, cursor),
                e.originator_version,
                TRANSACTION_TYPES.get(type(e), "adjustment"),
                e.amount_minor,
                e.balance_after_minor,
                e.occurred_at,
                e.timestamp,
                transaction_reference(e),
            )
        )

    @apply.register
    def _(self, e: ChargingSession.Recorded, cursor: Cursor[Any]) -> None:
        self._sessions.append(
            (e.emp_id, e.session_id, e.customer_id, e.started_at, e.ended_at, e.energy_wh, e.cost_minor,
             e.location, e.timestamp)
        )  # fmt: skip

    @apply.register
    def _(self, e: Customer.CardPaymentRequested, cursor: Cursor[Any]) -> None:
        _update_customer(cursor, e, "", ())
        cursor.execute(
            "INSERT INTO card_payments (payment_id, customer_id, emp_id, purpose, amount_minor,"
            " status, requested_at) SELECT %s, id, emp_id, %s, %s, 'pending', %s"
            " FROM customers WHERE id = %s",
            (e.payment_id, e.purpose, e.requested_minor, e.timestamp, e.originator_id),
        )

    @apply.register
    def _(self, e: Customer.CardPaymentSettled, cursor: Cursor[Any]) -> None:
        _update_customer(cursor, e, "", ())
        cursor.execute(
            "UPDATE card_payments SET status = 'approved', completed_at = %s, charge_id = %s"
            " WHERE payment_id = %s",
            (e.timestamp, e.charge_id, e.payment_id),
        )

    @apply.register
    def _(self, e: Customer.PaymentFailed, cursor: Cursor[Any]) -> None:
        _update_customer(cursor, e, "", ())
        cursor.execute(
            "UPDATE card_payments SET status = 'declined', completed_at = %s, decline_code = %s"
            " WHERE payment_id = %s",
            (e.timestamp, e.decline_code, e.payment_id),
        )
        if e.purpose in NOTIFIED_PURPOSES:
            _queue_failure_mail(cursor, e)

    @apply.register
    def _(self, e: Customer.DebitSettled, cursor: Cursor[Any]) -> None:
        _update_customer(cursor, e, "", ())
        cursor.execute(
            "UPDATE debits SET status = 'paid', settled_by = %s, settled_at = %s WHERE debit_id = %s",
            (e.settled_by, e.occurred_at, e.debit_id),
        )

    def reset(self, cursor: Cursor[Any]) -> None:
        cursor.execute("TRUNCATE emps, customers, transactions, sessions, card_payments, debits")


def _update_customer(
    cursor: Cursor[Any], e: Customer.Event, assignments: str, params: tuple[Any, ...]
) -> None:
    prefix = f"{assignments}, " if assignments else ""
    cursor.execute(
        f"UPDATE customers SET {prefix}updated_at = %s, version = %s WHERE id = %s",
        (*params, e.timestamp, e.originator_version, e.originator_id),
    )


def _queue_failure_mail(cursor: Cursor[Any], e: Customer.PaymentFailed) -> None:
    """Exactly one mail per failure: written here, in the projection's own transaction."""
    reader = cursor.connection.cursor()  # its own cursor: the batch runs in a pipeline
    reader.execute("SELECT emp_id, name, email, currency FROM customers WHERE id = %s", (e.originator_id,))
    row = reader.fetchone()
    if row is None:
        return
    # The library's connections return rows as dicts.
    emp_id, name, email, currency = row["emp_id"], row["name"], row["email"], row["currency"].strip()
    mail = payment_failure_mail(
        name=name,
        purpose=e.purpose,
        amount_minor=e.attempted_minor,
        currency=currency,
        failed_at=e.occurred_at,
        decline_code=e.decline_code,
    )
    cursor.execute(
        "INSERT INTO mail_outbox (id, emp_id, customer_id, recipient, subject, body, created_at,"
        " next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        # A rebuild replays failures: the mail of each is in the outbox once, sent or not.
        " ON CONFLICT (id) DO NOTHING",
        (
            uuid5(e.payment_id, "payment-failure-mail"),
            emp_id,
            e.originator_id,
            email,
            mail.subject,
            mail.body,
            e.timestamp,
            e.timestamp,
        ),
    )
