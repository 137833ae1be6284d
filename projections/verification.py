"""Verification for auditors: replay every stream, check each stream's hash chain, and compare
the read models with what the replay derives. Every disagreement is named.

It streams the event log ordered by stream and position from server-side cursors, merged with
the read models in the same order, so memory stays flat however long the history is."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from domain.aggregates import CreditNote, Customer, Emp, Invoice
from domain.chain import genesis, link, resealed

MAX_PROBLEMS = 1000


class _Movement(msgspec.Struct):
    amount_minor: int = 0
    balance_after_minor: int = 0


MOVEMENT = msgspec.json.Decoder(_Movement)
BATCH = 5000


def _balance_topics() -> dict[str, str]:
    """Each balance movement's stored topic and its type in the transactions list."""
    return {cls.TOPIC: cls.kind for cls in _subclasses(Customer.BalanceMoved)}  # type: ignore[attr-defined]


def _subclasses(cls: type) -> Iterator[type]:
    subclass: type
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


@dataclass
class Problem:
    stream: str
    kind: str
    detail: str
    version: int | None = None


@dataclass
class Report:
    ok: bool = True
    streams_checked: int = 0
    events_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.ok = False
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


@dataclass
class Stream:
    id: UUID
    emp_id: UUID | None = None
    topic: str | None = None
    version: int = 0
    previous: bytes = b""
    balance: int = 0
    transactions: list[tuple[int, str, int, int]] = field(default_factory=list)


def verify(
    conninfo: str,
    *,
    key: bytes | None,
    emp_id: UUID | None = None,
    progress: Callable[[int], None] | None = None,
    events_table: str = "ledger_events",
) -> Report:
    """Check every stream (of one EMP when `emp_id` is given) and every read model."""
    report = Report()
    balance_topics = _balance_topics()
    with (
        psycopg.connect(conninfo) as events_conn,
        psycopg.connect(conninfo) as models_conn,
        events_conn.transaction(),
        models_conn.transaction(),
        ExitStack() as fetchers,  # closed first: no fetch outlives its connection
    ):
        customers = _grouped(
            fetchers, models_conn, "SELECT id, id, balance_minor FROM customers ORDER BY id", "c"
        )
        transactions = _grouped(
            fetchers,
            models_conn,
            "SELECT customer_id, sequence, type, amount_minor, balance_after_minor FROM transactions"
            " ORDER BY customer_id, sequence",
            "t",
        )
        invoices = {
            row[0]: row[1:]
            for row in models_conn.execute("SELECT id, sequence, number, total_minor, emp_id FROM invoices")
        }
        collected = _Collected(models_conn)
        seen_invoices: set[UUID] = set()
        sequences: dict[UUID, list[int]] = {}
        cursor = events_conn.cursor(name="verify_events")
        cursor.execute(
            f"SELECT coalesce(e.originator_id, c.originator_id), coalesce(e.originator_version,"
            f" c.originator_version), e.topic, e.state, c.link, r.link FROM {events_table} e"
            " FULL OUTER JOIN event_chain c ON c.originator_id = e.originator_id"
            " AND c.originator_version = e.originator_version"
            # An event an erasure rewrote is covered by its reseal link (docs/auditors.md).
            " LEFT JOIN event_reseals r ON r.originator_id = e.originator_id"
            " AND r.originator_version = e.originator_version ORDER BY 1, 2"
        )
        stream: Stream | None = None
        rows = fetchers.enter_context(closing(_fetched_ahead(cursor)))
        for originator_id, version, topic, state, stored_link, reseal in rows:
            # UUIDs compare in Python; their ints in C.
            if stream is None or stream.id.int != originator_id.int:
                if stream is not None:
                    _close(stream, report, emp_id, customers, transactions)
                stream = Stream(originator_id, previous=genesis(originator_id, key))
            # Only a stream's first event, balance movements and invoices are read for content,
            # and only the fields checked; every event's bytes are still covered by its link.
            data: Any = {}
            if state is not None:
                if version == 1 or topic == Invoice.Issued.TOPIC or topic in COLLECTING_TOPICS:
                    data = msgspec.json.decode(bytes(state))
                elif topic in balance_topics:
                    movement = MOVEMENT.decode(bytes(state))
                    data = {
                        "amount_minor": movement.amount_minor,
                        "balance_after_minor": movement.balance_after_minor,
                    }
            if version == 1:
                stream.topic = data.get("originator_topic")
                stream.emp_id = originator_id if stream.topic == Emp.TOPIC else _uuid(data.get("emp_id"))
            wanted = emp_id is None or stream.emp_id == emp_id
            report.events_checked += 1 if wanted else 0
            if progress is not None and report.events_checked % BATCH == 0 and wanted:
                progress(report.events_checked)
            _check_link(stream, report, version, topic, state, (stored_link, reseal), key, wanted)
            if topic in balance_topics:
                amount, after = data.get("amount_minor", 0), data.get("balance_after_minor", 0)
                if after != stream.balance + amount and wanted:
                    report.add(
                        Problem(
                            str(stream.id),
                            "balance-arithmetic",
                            f"balance after {after} is not {stream.balance} + {amount}",
                            version,
                        )
                    )
                stream.balance = after
                stream.transactions.append((version, balance_topics[topic], amount, after))
            if topic == Invoice.Issued.TOPIC and wanted:
                _check_invoice(stream, data, invoices, report)
                seen_invoices.add(stream.id)
                sequences.setdefault(stream.emp_id or UUID(int=0), []).append(data["sequence"])
            if wanted and (topic in COLLECTING_TOPICS or topic == CreditNote.Issued.TOPIC):
                collected.event(stream, topic, data)
        if stream is not None:
            _close(stream, report, emp_id, customers, transactions)
        for rest_id, _ in customers.remaining() if emp_id is None else []:
            report.add(Problem(str(rest_id), "read-model", "a customer in the read model has no events"))
        for invoice_id, (_, number, _, invoice_emp) in invoices.items():
            if invoice_id not in seen_invoices and (emp_id is None or invoice_emp == emp_id):
                report.add(Problem(str(invoice_id), "read-model", f"invoice {number} has no Issued event"))
        for emp, numbers in sequences.items():
            if sorted(numbers) != list(range(1, len(numbers) + 1)):
                report.add(Problem(str(emp), "invoice-numbers", "invoice sequences are not gapless from 1"))
        collected.check(report, emp_id, seen_invoices)
    if progress is not None:
        progress(report.events_checked)
    return report


# The events of collecting what invoices ask, read for content: payments, credits, paid.
COLLECTING_TOPICS = frozenset(
    {Invoice.PaymentRecorded.TOPIC, Invoice.Credited.TOPIC, Invoice.Paid.TOPIC}  # type: ignore[attr-defined]
)


class _Collected:
    """Payments on invoices and credit notes: the invoices' paid and credited amounts and
    status, the `invoice_payments` and `credit_notes` rows, and the credit notes' gapless series,
    each compared with what the events say. (These tables are small beside the log: in memory.)"""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.invoices = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT id, status, amount_paid_minor, credited_minor, number FROM invoices"
            )
        }
        self.payments = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, invoice_id, amount_minor, emp_id FROM invoice_payments")
        }
        self.credit_notes = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT id, sequence, number, invoice_id, total_minor, emp_id FROM credit_notes"
            )
        }
        self.derived: dict[UUID, list[Any]] = {}  # invoice -> [paid, credited, is paid]
        self.seen_payments: set[UUID] = set()
        self.seen_notes: set[UUID] = set()
        self.note_sequences: dict[UUID, list[int]] = {}
        self.problems: list[Problem] = []

    def event(self, stream: Stream, topic: str | None, data: dict[str, Any]) -> None:
        if topic == CreditNote.Issued.TOPIC:
            self._credit_note(stream, data)
            return
        derived = self.derived.setdefault(stream.id, [0, 0, False])
        if topic == Invoice.PaymentRecorded.TOPIC:
            derived[0] += data["amount_minor"]
            payment_id = _uuid(data.get("payment_id"))
            row = self.payments.get(payment_id) if payment_id is not None else None
            if payment_id is not None:
                self.seen_payments.add(payment_id)
            if row is None or (row[0], row[1]) != (stream.id, data["amount_minor"]):
                self.problems.append(
                    Problem(
                        str(stream.id),
                        "read-model",
                        f"payment {payment_id} of {data['amount_minor']} is missing from invoice_payments"
                        " or differs there",
                    )
                )
        elif topic == Invoice.Credited.TOPIC:
            derived[1] += data["total_minor"]
        elif topic == Invoice.Paid.TOPIC:
            derived[2] = True

    def _credit_note(self, stream: Stream, data: dict[str, Any]) -> None:
        self.seen_notes.add(stream.id)
        self.note_sequences.setdefault(stream.emp_id or UUID(int=0), []).append(data["sequence"])
        row = self.credit_notes.get(stream.id)
        expected = (data["sequence"], data["number"], _uuid(data.get("invoice_id")), data["total_minor"])
        if row is None:
            self.problems.append(
                Problem(
                    str(stream.id), "read-model", f"credit note {data['number']} is missing from credit_notes"
                )
            )
        elif tuple(row[:4]) != expected:
            self.problems.append(
                Problem(
                    str(stream.id),
                    "read-model",
                    f"credit note {row[1]} reads {row[0]}/{row[3]}/{row[2]}, the event says"
                    f" {expected[0]}/{expected[3]}/{expected[2]}",
                )
            )

    def check(self, report: Report, emp_id: UUID | None, seen_invoices: set[UUID]) -> None:
        for problem in self.problems:
            report.add(problem)
        for invoice_id in seen_invoices:
            row = self.invoices.get(invoice_id)
            if row is None:
                continue  # named missing already
            status, paid, credited, number = row
            derived_paid, derived_credited, is_paid = self.derived.get(invoice_id, [0, 0, False])
            derived = ("paid" if is_paid else "open", derived_paid, derived_credited)
            if (status, paid, credited) != derived:
                report.add(
                    Problem(
                        str(invoice_id),
                        "read-model",
                        f"invoice {number} reads {status}, paid {paid}, credited {credited}; the events"
                        f" say {derived[0]}, paid {derived[1]}, credited {derived[2]}",
                    )
                )
        for payment_id, (invoice_id, amount, payment_emp) in self.payments.items():
            if payment_id not in self.seen_payments and (emp_id is None or payment_emp == emp_id):
                report.add(
                    Problem(
                        str(invoice_id),
                        "read-model",
                        f"payment {payment_id} of {amount} in invoice_payments has no PaymentRecorded event",
                    )
                )
        for note_id, (_, number, _, _, note_emp) in self.credit_notes.items():
            if note_id not in self.seen_notes and (emp_id is None or note_emp == emp_id):
                report.add(Problem(str(note_id), "read-model", f"credit note {number} has no Issued event"))
        for emp, numbers in self.note_sequences.items():
            if sorted(numbers) != list(range(1, len(numbers) + 1)):
                report.add(
                    Problem(str(emp), "credit-note-numbers", "credit note sequences are not gapless from 1")
                )


def _check_link(
    stream: Stream,
    report: Report,
    version: int,
    topic: str | None,
    state: Any,
    links: tuple[Any, Any],
    key: bytes | None,
    wanted: bool,
) -> None:
    stored, reseal = links
    expected_version = stream.version + 1
    stream.version = version
    if not wanted:
        stream.previous = bytes(stored) if stored is not None else stream.previous
        return
    if version != expected_version:
        report.add(
            Problem(
                str(stream.id),
                "missing-events",
                f"versions {expected_version} to {version - 1} are missing",
                version,
            )
        )
    if topic is None:
        report.add(
            Problem(str(stream.id), "event-deleted", "a chained event was removed from the log", version)
        )
        stream.previous = bytes(stored)
        return
    if stored is None:
        report.add(
            Problem(
                str(stream.id),
                "event-unchained",
                "an event was written outside the ledger (no chain link)",
                version,
            )
        )
        return
    if reseal is None:
        computed = link(stream.previous, stream.id, version, topic, bytes(state), key)
        expected = bytes(stored)
    else:
        computed = resealed(stream.previous, bytes(stored), stream.id, version, topic, bytes(state), key)
        expected = bytes(reseal)
    if computed != expected:
        report.add(
            Problem(
                str(stream.id),
                "event-altered",
                "the event's content or position does not match its chain link",
                version,
            )
        )
    stream.previous = bytes(stored)


def _check_invoice(
    stream: Stream, data: dict[str, Any], invoices: dict[Any, tuple[Any, ...]], report: Report
) -> None:
    row = invoices.get(stream.id)
    if row is None:
        report.add(Problem(str(stream.id), "read-model", "an issued invoice is missing from the invoices"))
        return
    sequence, number, total, _ = row
    if (sequence, number, total) != (data["sequence"], data["number"], data["total_minor"]):
        report.add(
            Problem(
                str(stream.id),
                "read-model",
                f"invoice {number} reads {sequence}/{total}, the event says "
                f"{data['sequence']}/{data['total_minor']}",
            )
        )


def _close(
    stream: Stream, report: Report, emp_id: UUID | None, customers: _Grouped, transactions: _Grouped
) -> None:
    wanted = emp_id is None or stream.emp_id == emp_id
    if wanted:
        report.streams_checked += 1
    is_customer = stream.topic == Customer.TOPIC
    model = customers.take(stream.id) if is_customer else []
    movements = transactions.take(stream.id) if is_customer else []
    if not (wanted and is_customer):
        return
    if not model:
        report.add(Problem(str(stream.id), "read-model", "the customer is missing from the read model"))
    elif model[0][1] != stream.balance:
        report.add(
            Problem(
                str(stream.id), "read-model", f"balance reads {model[0][1]}, the events give {stream.balance}"
            )
        )
    if [tuple(row) for row in movements] != stream.transactions:
        report.add(
            Problem(
                str(stream.id),
                "read-model",
                f"transactions read {len(movements)} rows that differ from the"
                f" {len(stream.transactions)} balance movements of the events",
            )
        )


def _fetched_ahead(cursor: psycopg.ServerCursor[Any]) -> Generator[tuple[Any, ...]]:
    """The rows of a server-side cursor, the next batch fetched in a thread of its own while
    the current one is checked: PostgreSQL reads and joins while Python hashes."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-fetch") as fetcher:
        batch = fetcher.submit(cursor.fetchmany, BATCH)
        while rows := batch.result():
            batch = fetcher.submit(cursor.fetchmany, BATCH)
            yield from rows


class _Grouped:
    """Rows of a server-side cursor ordered by their first column, taken group by group."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._next: tuple[Any, ...] | None = next(self._rows, None)
        self.skipped: list[tuple[UUID, int]] = []

    def take(self, key: UUID) -> list[tuple[Any, ...]]:
        while self._next is not None and self._next[0] < key:
            self.skipped.append((self._next[0], 1))
            self._next = next(self._rows, None)
        group = []
        while self._next is not None and self._next[0] == key:
            group.append(self._next[1:])
            self._next = next(self._rows, None)
        return group

    def remaining(self) -> list[tuple[UUID, int]]:
        rest = list(self.skipped)
        while self._next is not None:
            rest.append((self._next[0], 1))
            self._next = next(self._rows, None)
        return rest


def _grouped(fetchers: ExitStack, conn: psycopg.Connection, sql: str, name: str) -> _Grouped:
    cursor = conn.cursor(name=f"verify_{name}")
    cursor.execute(sql)
    return _Grouped(fetchers.enter_context(closing(_fetched_ahead(cursor))))


def _uuid(value: Any) -> UUID | None:
    if isinstance(value, dict) and "_data_" in value:
        return UUID(value["_data_"])
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            return None
    return None
