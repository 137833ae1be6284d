"""A worker thread that runs `run_once` whenever woken, and at least every `poll_seconds`."""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)


class BackgroundWorker:
    thread_name = "worker"

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        raise NotImplementedError

    def wake(self, *_: object) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception:
                logger.exception("background worker failed; retrying", extra={"worker": self.thread_name})
                self._stop.wait(1.0)
            self._wake.wait(self.poll_seconds)
