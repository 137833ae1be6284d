"""The migration runner: order, once only, edited files refused, concurrent runs serialised."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from migrations import MigrationError, applied_migrations, migrate
from migrations.runner import MIGRATIONS_DIR, discover


def write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql)


def test_applies_files_in_number_order_once(fresh_database_url: str, tmp_path: Path) -> None:
    write(tmp_path, "0002_second.sql", "INSERT INTO trail VALUES (2);")
    write(tmp_path, "0001_first.sql", "CREATE TABLE trail (n int); INSERT INTO trail VALUES (1);")

    assert migrate(fresh_database_url, tmp_path) == ["0001_first.sql", "0002_second.sql"]
    assert migrate(fresh_database_url, tmp_path) == []

    with psycopg.connect(fresh_database_url) as conn:
        assert [r[0] for r in conn.execute("SELECT n FROM trail ORDER BY n")] == [1, 2]
    assert set(applied_migrations(fresh_database_url)) == {"0001_first.sql", "0002_second.sql"}


def test_an_edited_applied_migration_is_refused(fresh_database_url: str, tmp_path: Path) -> None:
    write(tmp_path, "0001_first.sql", "CREATE TABLE trail (n int);")
    migrate(fresh_database_url, tmp_path)
    write(tmp_path, "0001_first.sql", "CREATE TABLE trail (n bigint);")

    with pytest.raises(MigrationError, match=r"0001_first\.sql was edited"):
        migrate(fresh_database_url, tmp_path)


def test_a_failing_migration_leaves_nothing_half_applied(fresh_database_url: str, tmp_path: Path) -> None:
    write(tmp_path, "0001_first.sql", "CREATE TABLE trail (n int);")
    write(tmp_path, "0002_broken.sql", "INSERT INTO trail VALUES (1); SELECT no_such_function();")
    with pytest.raises(psycopg.Error):
        migrate(fresh_database_url, tmp_path)

    assert list(applied_migrations(fresh_database_url)) == ["0001_first.sql"]
    with psycopg.connect(fresh_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM trail").fetchone() == (0,)


def test_concurrent_migrations_apply_each_file_once(fresh_database_url: str, tmp_path: Path) -> None:
    write(tmp_path, "0001_first.sql", "CREATE TABLE trail (n int); SELECT pg_sleep(0.3);")
    write(tmp_path, "0002_second.sql", "INSERT INTO trail VALUES (2);")
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(fresh_database_url, tmp_path))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results, key=len) == [[], [], [], ["0001_first.sql", "0002_second.sql"]]
    with psycopg.connect(fresh_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM trail").fetchone() == (1,)


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "first.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        discover(tmp_path)


def test_the_project_migrations_apply_on_an_empty_database(fresh_database_url: str) -> None:
    applied = migrate(fresh_database_url)
    assert applied == [m.name for m in discover(MIGRATIONS_DIR)]
