"""The `chargeledger` command as a person runs it, in a real subprocess: --version and full
--help, every error one line on stderr with a non-zero exit, the demo's key, link and progress,
and `serve`, which tells its address only once it listens and prints a block that works when
pasted into a shell."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from chargeledger.system import build_system
from commands.handlers import handle
from commands.messages import RegisterEmp

REPO = Path(__file__).resolve().parents[2]
UNKNOWN_EMP = "5d1f7a52-0000-4000-8000-000000000000"


def chargeledger(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chargeledger.cli", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("chargeledger"), lines[0]
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def database(fresh_database_url: str) -> dict[str, str]:
    return {"CHARGELEDGER_DATABASE_URL": fresh_database_url}


@pytest.fixture
def known_emp(fresh_database_url: str) -> str:
    system = build_system(fresh_database_url, pool_size=2)
    try:
        emp = handle(RegisterEmp("CLI EMP", "EUR", 1000, 3000, "test"), system.services)
    finally:
        system.close()
    return str(emp.id)


def test_version_names_the_package_version() -> None:
    result = chargeledger("--version")

    assert result.returncode == 0
    assert re.fullmatch(r"chargeledger \d+\.\d+\.\d+\S*\n", result.stdout)


def test_help_lists_every_command_and_every_option_says_what_it_does() -> None:
    overview = chargeledger("--help")
    assert overview.returncode == 0
    for command in ("migrate", "serve", "project", "schedule", "verify", "rebuild", "export", "demo"):
        assert re.search(rf"^\s+{command}\s+\w", overview.stdout, re.MULTILINE), command
    assert "CHARGELEDGER_DATABASE_URL" in overview.stdout

    export = chargeledger("export", "--help").stdout
    assert "--from INSTANT" in export and "RFC 3339" in export
    assert "--output FILE" in export and "standard output" in export
    demo = chargeledger("demo", "--help").stdout
    assert "--customers CUSTOMERS" in demo and "customers to register" in demo
    assert "--days DAYS" in demo and "days to simulate" in demo


def test_an_instant_without_a_zone_is_one_line(database: dict[str, str]) -> None:
    result = chargeledger("export", "sessions", "--emp", UNKNOWN_EMP, "--from", "2026-01-01", env=database)

    assert_one_line_error(result, "--from", "zone", "2026-01-01T00:00:00Z")


def test_a_database_that_does_not_answer_is_one_line() -> None:
    url = "postgresql://nobody@127.0.0.1:1/nothing"
    result = chargeledger("verify", env={"CHARGELEDGER_DATABASE_URL": url})

    assert_one_line_error(result, "did not answer", "nobody@127.0.0.1:1/nothing")


def test_a_url_that_is_not_postgresql_is_one_line() -> None:
    result = chargeledger("migrate", env={"CHARGELEDGER_DATABASE_URL": "mysql://db/ledger"})

    assert_one_line_error(result, "CHARGELEDGER_DATABASE_URL", "not a PostgreSQL URL")


def test_an_output_that_cannot_be_written_is_one_line(database: dict[str, str], known_emp: str) -> None:
    result = chargeledger(
        "export", "sessions", "--emp", known_emp, "--output", "/nonexistent/x", env=database
    )

    assert_one_line_error(result, "/nonexistent/x", "No such file or directory")


def test_an_export_of_an_unknown_emp_fails(database: dict[str, str], known_emp: str) -> None:
    result = chargeledger("export", "transactions", "--emp", UNKNOWN_EMP, env=database)

    assert_one_line_error(result, "--emp", UNKNOWN_EMP)
    assert result.stdout == ""


def test_an_export_of_a_known_emp_writes_its_csv(
    database: dict[str, str], known_emp: str, tmp_path: Path
) -> None:
    target = tmp_path / "sessions.csv"
    result = chargeledger("export", "sessions", "--emp", known_emp, "--output", str(target), env=database)

    assert result.returncode == 0, result.stderr
    assert target.read_text().startswith("session_id,customer_id,")


def test_verifying_an_unknown_emp_fails(database: dict[str, str], known_emp: str) -> None:
    result = chargeledger("verify", "--emp", UNKNOWN_EMP, env=database)

    assert_one_line_error(result, "--emp", UNKNOWN_EMP)
    assert "ok" not in result.stdout


def test_a_mistyped_option_is_one_line_naming_the_help() -> None:
    result = chargeledger("export", "sessions", "--emp", "not-a-uuid")

    assert_one_line_error(result, "not-a-uuid", "chargeledger export --help")
    assert result.returncode == 2


@pytest.mark.parametrize(("option", "value"), [("--customers", "0"), ("--days", "0"), ("--customers", "-3")])
def test_a_demo_without_customers_or_days_is_refused_before_anything_is_made(
    database: dict[str, str], fresh_database_url: str, option: str, value: str
) -> None:
    result = chargeledger("demo", option, value, env=database)

    assert_one_line_error(result, option, "from 1")
    with psycopg.connect(fresh_database_url) as conn:
        made = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'emps'").fetchone()
    assert made == (0,), "the demo touched the database"


def test_the_demo_prints_a_readable_summary_a_support_key_and_the_support_page(
    database: dict[str, str], fresh_database_url: str
) -> None:
    result = chargeledger(
        "demo", "--customers", "3", "--days", "2", "--url", "http://ledger.test:9000", env=database
    )

    assert result.returncode == 0, result.stderr
    assert "{" not in result.stdout and "}" not in result.stdout, "a Python dict was printed"
    assert re.search(r"^\s+customers\s+3$", result.stdout, re.MULTILINE)
    assert re.search(r"^\s+refused requests\s+\S", result.stdout, re.MULTILINE)
    assert "http://ledger.test:9000/support" in result.stdout
    key = re.search(r"support key\s+(clk_\S+)", result.stdout)
    assert key is not None, result.stdout
    # The progress goes to stderr, drawn by rich; stdout keeps only the result.
    assert "day 2 of 2" in result.stderr and "5/5" in result.stderr
    assert "day 2 of 2" not in result.stdout and "━" not in result.stdout
    with psycopg.connect(fresh_database_url) as conn:
        roles = conn.execute("SELECT role FROM api_keys").fetchall()
    assert roles == [("support",)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def serve_env(fresh_database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {
        "CHARGELEDGER_DATABASE_URL": fresh_database_url,
        "CHARGELEDGER_DATA_DIR": str(tmp_path / "data"),
        **{f"CHARGELEDGER_SCHEDULE_{job}": "off" for job in ("RECURRING_PREPAYMENT", "RECURRING_PAYMENT")},
        "CHARGELEDGER_SCHEDULE_INVOICE_PRODUCTION": "off",
    }
    return env


@pytest.fixture
def served_output(
    serve_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    out = tmp_path / "serve.out"
    with out.open("wb") as stdout, (tmp_path / "serve.err").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "chargeledger.cli", "serve", "--port", "0"],
            cwd=REPO,
            env={**{k: v for k, v in os.environ.items() if k != "CHARGELEDGER_ADMIN_TOKEN"}, **serve_env},
            stdout=stdout,
            stderr=stderr,
        )
    try:
        yield process, out
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_for_block(process: subprocess.Popen[bytes], out: Path, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = out.read_text()
        if "account_type" in text:
            return text
        assert process.poll() is None, f"serve exited: {text}"
        time.sleep(0.05)
    raise AssertionError(f"no first-hour block within {timeout} s: {out.read_text()}")


def test_serve_tells_its_address_once_it_listens_and_the_pasted_block_makes_a_customer(
    served_output: tuple[subprocess.Popen[bytes], Path],
) -> None:
    process, out = served_output
    text = wait_for_block(process, out)

    first = text.splitlines()[0]
    match = re.fullmatch(r"chargeledger is serving on http://127\.0\.0\.1:(\d+)", first)
    assert match, first
    # Printed after the bind: the port answers at once.
    socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=1).close()
    assert "/schema" in text and "/support" in text
    assert re.search(r"admin key \(shown once, kept in .*admin_token\): cla_\S+", text)

    block = text.split("paste this into another shell to create an EMP, its key and a customer:", 1)[1]
    pasted = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block + '\necho "EMP_KEY=$EMP_KEY"'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert pasted.returncode == 0, pasted.stderr
    assert '"name":"Ann Driver"' in pasted.stdout
    assert re.search(r"^EMP_KEY=clk_\S+$", pasted.stdout, re.MULTILINE)


def test_serve_on_a_port_in_use_is_one_line_naming_another_port(serve_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = chargeledger("serve", "--port", str(port), env=serve_env)

    assert_one_line_error(result, f"127.0.0.1:{port}", "in use", f"PORT={port + 1}")
    assert "serving on" not in result.stdout


def test_a_bad_log_format_is_one_line() -> None:
    result = chargeledger("verify", env={"CHARGELEDGER_LOG_FORMAT": "xml"})

    assert_one_line_error(result, "CHARGELEDGER_LOG_FORMAT", "console, json")


def postmaster_running(data_dir: Path) -> bool:
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start_embedded_serve(data_dir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "CHARGELEDGER_DATABASE_URL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "chargeledger.cli", "serve", "--port", "0"],
        cwd=REPO,
        env={**env, "CHARGELEDGER_DATA_DIR": str(data_dir), "CHARGELEDGER_ADMIN_TOKEN": uuid.uuid4().hex},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    first = process.stdout.readline().decode()
    assert first.startswith("chargeledger is serving on"), first
    return process


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_embedded_server_stops_with_the_last_process_also_after_a_killed_one(
    tmp_path: Path, stop: signal.Signals
) -> None:
    data_dir = tmp_path / "data"
    killed = start_embedded_serve(data_dir)
    killed.kill()  # SIGKILL: it never lets go of the embedded server
    killed.wait(timeout=30)
    assert postmaster_running(data_dir)

    last = start_embedded_serve(data_dir)
    last.send_signal(stop)
    last.wait(timeout=60)

    deadline = time.monotonic() + 20
    while postmaster_running(data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not postmaster_running(data_dir), "the embedded PostgreSQL kept running"


def test_the_readme_shows_the_block_serve_prints() -> None:
    from chargeledger.config import Settings
    from chargeledger.welcome import first_hour

    settings = Settings(data_dir=Path(".chargeledger"))
    printed = first_hour("127.0.0.1", 8000, settings, "cla_x", False, 1)
    block = printed.split("paste this into another shell to create an EMP, its key and a customer:\n\n", 1)[1]
    block = block.replace(str((Path(".chargeledger") / "admin_token").resolve()), ".chargeledger/admin_token")
    readme = (REPO / "README.md").read_text()

    assert block.strip() in readme
