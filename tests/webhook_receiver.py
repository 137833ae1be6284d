"""A real HTTP server on a local port that receives webhook deliveries as an EMP's system
would, and verifies each with the `standardwebhooks` package (the reference implementation,
not our code). Each path can answer as told: a status, a sequence of statuses, or a hang."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def message(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Behaviour:
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once they run out
    hang: threading.Event | None = None  # while set, the answer waits


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviours: dict[str, Behaviour] = {}
        self.lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                behaviour = receiver.behaviours.get(self.path, Behaviour())
                with receiver.lock:
                    receiver.received.append(Received(self.path, headers, body))
                    receiver.lock.notify_all()
                    status = behaviour.statuses.pop(0) if behaviour.statuses else 200
                while behaviour.hang is not None and behaviour.hang.is_set():
                    time.sleep(0.02)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        for behaviour in self.behaviours.values():
            if behaviour.hang is not None:
                behaviour.hang.clear()
        self.server.shutdown()
        self.server.server_close()

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [received for received in self.received if received.path == path]

    def wait_for(self, path: str, condition: Any, timeout: float = 15.0) -> list[Received]:
        """Until `condition(deliveries at path)` holds; they are returned."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                found = [received for received in self.received if received.path == path]
                if condition(found):
                    return found
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{path}: {len(found)} deliveries, not what was awaited"
                self.lock.wait(remaining)


def verified(received: Received, secret: str) -> dict[str, Any]:
    """The message, if its signature verifies with `secret` (standardwebhooks raises if not)."""
    message: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return message
