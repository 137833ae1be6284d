"""The floor under ingestion: what this machine's Python HTTP stack serves when a session costs
nothing else. A bare Litestar app, served by uvicorn as `chargeledger serve` is, takes the same
POST /v1/sessions body into the same msgspec struct (api/schemas.py) in a sync handler run in a
thread, and answers 201 without recording anything. Its requests/s bound what any Python service on
this stack can ingest here, whatever it does per session."""

from __future__ import annotations

import subprocess
import sys

from litestar import Litestar, get, post

from api.schemas import SessionIn, SessionOut
from bench.served import free_port, wait_until_healthy


@post("/v1/sessions", sync_to_thread=True)
def record(data: SessionIn) -> SessionOut:
    return SessionOut(data.session_id, str(data.customer_id), data.cost_minor, 0)


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar([record, health])


class Floor:
    """The bare app in a process of its own, while the context is open."""

    def __enter__(self) -> str:
        port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.http_floor:app", "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(self.process, base_url, "the HTTP floor app")
        return base_url

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(10)
