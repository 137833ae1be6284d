"""Apply `NNNN_name.sql` files in order, once each, refusing any that changed after applying.

One transaction per file; a session advisory lock keeps two processes from migrating at once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent
FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# An arbitrary constant that names "the migration lock" among advisory locks.
LOCK_KEY = 7_420_031_001


class MigrationError(Exception):
    """A migration cannot be applied, or an applied one was edited."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name!r} is not named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a number in {directory}")
    return migrations


def applied_migrations(conninfo: str) -> dict[str, str]:
    """Names of applied migrations mapped to their checksums."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        _ensure_table(conn)
        rows = conn.execute("SELECT name, checksum FROM schema_migrations").fetchall()
    return {name: checksum for name, checksum in rows}


def migrate(conninfo: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every pending migration; return the names applied by this call."""
    migrations = discover(directory)
    applied_now: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            _ensure_table(conn)
            applied = {
                version: (name, checksum)
                for version, name, checksum in conn.execute(
                    "SELECT version, name, checksum FROM schema_migrations"
                )
            }
            for migration in migrations:
                if migration.version in applied:
                    _check_unchanged(migration, *applied[migration.version])
                    continue
                with conn.transaction():
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                logger.info("migration applied", extra={"migration": migration.name})
                applied_now.append(migration.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied_now


def _ensure_table(conn: psycopg.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )


def _check_unchanged(migration: Migration, name: str, checksum: str) -> None:
    if checksum != migration.checksum or name != migration.name:
        raise MigrationError(
            f"migration {migration.name} was edited after it was applied "
            f"(applied as {name}, checksum {checksum[:12]}; file now {migration.checksum[:12]});"
            " add a new migration instead of changing an applied one"
        )
