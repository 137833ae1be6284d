"""A call the ledger makes to another system (commands/outbound.py), against a real local HTTP
server: no redirect is followed, at most 64 KiB of an answer is read, a server that never
answers ends the attempt, and the address rule holds for names as well as literals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from commands.outbound import MAX_ANSWER_BYTES, RefusedUrl, check_url, send
from tests.reliability.crash_serve import wait_until


class Server:
    def __init__(self) -> None:
        self.paths: list[str] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.paths.append(self.path)
                if self.path == "/moved":
                    self.send_response(307)
                    self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10 * MAX_ANSWER_BYTES))
                    self.end_headers()
                    try:
                        for _ in range(10):
                            self.wfile.write(b"x" * MAX_ANSWER_BYTES)
                    except OSError:
                        pass  # the client read its 64 KiB and went away, as it should
                elif self.path == "/never":
                    server.release.wait(30)
                else:
                    self.send_response(204)
                    self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    started = Server()
    yield started
    started.close()


def test_a_redirect_is_answered_as_it_is_and_not_followed(server: Server) -> None:
    answer = send("POST", server.url("/moved"), b"{}", {}, allow_insecure=True)

    assert answer.status == 307
    assert server.paths == ["/moved"]


def test_at_most_64_kib_of_an_answer_is_read(server: Server) -> None:
    answer = send("POST", server.url("/huge"), b"{}", {}, allow_insecure=True)

    assert answer.status == 200
    assert len(answer.body) == MAX_ANSWER_BYTES


def test_a_server_that_never_answers_ends_the_attempt(server: Server) -> None:
    with pytest.raises(TimeoutError):
        send("POST", server.url("/never"), b"{}", {}, allow_insecure=True, attempt_timeout=0.3)
    # The client gives up after 0.3 s whether or not the server's thread has run by then (on a
    # loaded machine it may not have): wait for the request to arrive, then it is the only one.
    wait_until(lambda: server.paths, "the request at the server", timeout=10)
    assert server.paths == ["/never"]


def test_without_the_flag_a_local_server_is_not_called(server: Server) -> None:
    with pytest.raises(RefusedUrl):
        send("POST", server.url("/ok").replace("http://", "https://"), b"{}", {}, allow_insecure=False)
    with pytest.raises(RefusedUrl):
        send("POST", server.url("/ok"), b"{}", {}, allow_insecure=False)
    assert server.paths == []
    assert send("POST", server.url("/ok"), b"{}", {}, allow_insecure=True).status == 204


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://localhost/hooks", "not a public address"),
        ("https://127.0.0.2/hooks", "not a public address"),
        ("https://[::ffff:10.0.0.1]/hooks", "not a public address"),
        ("https://0.0.0.0/hooks", "not a public address"),
        ("https://hooks.example.com:99999/in", "not a URL"),
        ("https://hooks.example.com/in path", "white space"),
        ("https:///in", "no host"),
    ],
)
def test_a_url_the_ledger_does_not_call_is_refused_saying_why(url: str, reason: str) -> None:
    with pytest.raises(RefusedUrl, match=reason) as refused:
        check_url(url, allow_insecure=False)
    assert refused.value.field == "url"
