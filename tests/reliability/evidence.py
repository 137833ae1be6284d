"""Where a secret could end up: every row of every table, and every log record."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from chargeledger.logs import JsonFormatter


def database_text(database_url: str) -> str:
    """Every value of every table of the database as text; bytes (event state) decoded as UTF-8."""
    values: list[str] = []
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            for row in conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table))):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        values.append(bytes(value).decode("utf-8", "replace"))
                    elif value is not None:
                        values.append(str(value))
    return "\n".join(values)


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # message, extras and traceback, as production logs them

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def captured_logs() -> Iterator[Recorder]:
    """Every record of every logger, at every level, while the block runs (the server's threads too)."""
    recorder = Recorder()
    root = logging.getLogger()
    isolated = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = {
        logger: logger.level
        for logger in [root, *logging.Logger.manager.loggerDict.values()]
        if isinstance(logger, logging.Logger)
    }
    for logger in levels:
        logger.setLevel(logging.DEBUG)
    for logger in [root, *isolated]:
        logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        for logger in [root, *isolated]:
            logger.removeHandler(recorder)
        for logger, level in levels.items():
            logger.setLevel(level)
