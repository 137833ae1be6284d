"""The rows a batch of events changes in one read-model table, gathered so that the table gets
at most one INSERT and one UPDATE for the batch: inline read models are written as parts of
the statement that records the events (docs/architecture.md), and parts of one statement all
see the table as it was before the statement, so no row may be touched by two parts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from psycopg import Cursor

# One SQL statement and its parameters.
Statement = tuple[str, list[Any]]


class TableBatch:
    """`columns` maps each column to its SQL type; `key` names the key columns. A change to a
    row inserted in the same batch goes into the insert. `derived` gives columns an SQL
    expression over the unnested values `v` instead of their own value (a lookup of a row
    committed earlier, where the batch does not know it)."""

    def __init__(
        self,
        table: str,
        columns: Mapping[str, str],
        *,
        key: Sequence[str],
        derived: Mapping[str, str] | None = None,
    ) -> None:
        self.table = table
        self.columns = dict(columns)
        self.key = tuple(key)
        self.derived = dict(derived or {})
        self._key_of = itemgetter(*self.key) if len(self.key) > 1 else lambda row: (row[self.key[0]],)
        self.inserts: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.changes: dict[tuple[Any, ...], dict[str, Any]] = {}

    def insert(self, row: dict[str, Any]) -> None:
        self.inserts[self._key_of(row)] = row

    def change(self, key: tuple[Any, ...], **values: Any) -> None:
        inserted = self.inserts.get(key)
        if inserted is not None:
            inserted.update(values)
        else:
            self.changes.setdefault(key, {}).update(values)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.changes)

    def statements(self) -> list[Statement]:
        return [s for s in (self._insert_statement(), self._update_statement()) if s is not None]

    def write(self, cursor: Cursor[Any]) -> None:
        """The batch inside the caller's transaction, its inserts by binary COPY (a rebuild's
        long batches): every value must be known, none derived."""
        if self.inserts:
            names = list(self.columns)
            with cursor.copy(f"COPY {self.table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([self.columns[name] for name in names])
                for row in self.inserts.values():
                    copy.write_row([row.get(name) for name in names])
        update = self._update_statement()
        if update is not None:
            cursor.execute(*update)

    def _insert_statement(self) -> Statement | None:
        if not self.inserts:
            return None
        names = list(self.columns)
        rows = list(self.inserts.values())
        values = ", ".join(self._cast(name) for name in names)
        selected = ", ".join(self.derived.get(name, f"v.{name}") for name in names)
        sql = (
            f"INSERT INTO {self.table} ({', '.join(names)})"
            f" SELECT {selected} FROM unnest({values}) AS v({', '.join(names)})"
        )
        return sql, [[row.get(name) for row in rows] for name in names]

    def _update_statement(self) -> Statement | None:
        """One UPDATE for every changed row: a flag per column says whether this row's value
        changes (NULL is a value a column may be set to)."""
        if not self.changes:
            return None
        changed = sorted({name for values in self.changes.values() for name in values})
        keys = list(self.changes)
        params: list[Any] = [[key[n] for key in keys] for n in range(len(self.key))]
        arrays = [self._cast(name) for name in self.key]
        aliases = list(self.key)
        assignments = []
        for name in changed:
            rows = [self.changes[key] for key in keys]
            params.append([name in row for row in rows])
            params.append([row.get(name) for row in rows])
            arrays += ["%b::boolean[]", self._cast(name)]
            aliases += [f"set_{name}", name]
            assignments.append(f"{name} = CASE WHEN v.set_{name} THEN v.{name} ELSE t.{name} END")
        match = " AND ".join(f"t.{name} = v.{name}" for name in self.key)
        sql = (
            f"UPDATE {self.table} t SET {', '.join(assignments)}"
            f" FROM unnest({', '.join(arrays)}) AS v({', '.join(aliases)}) WHERE {match}"
        )
        return sql, params

    def _cast(self, name: str) -> str:
        # In binary: dumping arrays as text costs the client six times as much, and an instant
        # goes as its point in time (as text, PostgreSQL refuses offsets beyond 15:59).
        return f"%b::{self.columns[name]}[]"


def one_statement(parts: Sequence[Statement], main: Statement) -> Statement:
    """`main` with `parts` as data-modifying WITH queries: one statement, one round trip, one
    transaction. PostgreSQL runs the main query first and the parts after it."""
    if not parts:
        return main
    sql = "WITH " + ", ".join(f"part{n} AS ({part})" for n, (part, _) in enumerate(parts)) + " " + main[0]
    return sql, [value for _, values in parts for value in values] + list(main[1])
