"""Calls the ledger makes to other systems (webhook receivers, a CPO's OCPI endpoints), under
one rule: `https://` to a public address only, no credentials in the URL, the address checked
after the name is resolved (so a name that resolves to 127.0.0.1 or 10.x is refused) and the
connection made to that very address. `CHARGELEDGER_ALLOW_INSECURE_OUTBOUND=1` also allows
`http://` and private addresses, for development and tests.

A call connects within 5 s and ends within 15 s in all, follows no redirect and reads at most
64 KiB of the answer."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.errors import ValidationFailed

CONNECT_TIMEOUT = 5.0
ATTEMPT_TIMEOUT = 15.0
MAX_ANSWER_BYTES = 64 * 1024


class RefusedUrl(ValidationFailed):
    """A URL the ledger does not call."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def check_url(url: str, *, allow_insecure: bool, field: str = "url", resolve: bool = True) -> Target:
    """The URL's parts, if the ledger may call it; else RefusedUrl naming `field`. A name that
    does not resolve now passes (it is resolved again at every call)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedUrl(f"{field}: not a URL ({error})", field=field) from None
    allowed = ("https", "http") if allow_insecure else ("https",)
    if parts.scheme not in allowed:
        raise RefusedUrl(
            f"{field}: the URL must start with {' or '.join(s + '://' for s in allowed)}", field=field
        )
    if not parts.hostname:
        raise RefusedUrl(f"{field}: the URL names no host", field=field)
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl(f"{field}: credentials in the URL are not accepted", field=field)
    if any(ch.isspace() for ch in url):
        raise RefusedUrl(f"{field}: the URL holds white space", field=field)
    target = Target(
        parts.scheme,
        parts.hostname,
        port or (443 if parts.scheme == "https" else 80),
        (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
    )
    if resolve and not allow_insecure:
        try:
            addresses = _resolve(target)
        except OSError:
            return target
        for address in addresses:
            _check_public(address, field)
    return target


def _resolve(target: Target) -> list[str]:
    found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for *_, sockaddr in found]


def _check_public(address: str, field: str) -> None:
    if not ipaddress.ip_address(address.split("%")[0]).is_global:
        raise RefusedUrl(f"{field}: the URL's host is not a public address ({address})", field=field)


def send(
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_insecure: bool,
    connect_timeout: float = CONNECT_TIMEOUT,
    attempt_timeout: float = ATTEMPT_TIMEOUT,
) -> Answer:
    """Send one request (`body` b"" for none); raises OSError (connection, timeout, TLS) or RefusedUrl."""
    target = check_url(url, allow_insecure=allow_insecure, resolve=False)
    deadline = time.monotonic() + attempt_timeout
    address = _resolve(target)[0]
    if not allow_insecure:
        _check_public(address, "url")
    sock = socket.create_connection((address, target.port), timeout=min(connect_timeout, attempt_timeout))
    try:
        if target.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
        connection = http.client.HTTPConnection(target.host, target.port)
        connection.sock = sock
        _within(sock, deadline)
        connection.putrequest(method, target.path, skip_accept_encoding=True)
        length = {"Content-Length": str(len(body))} if body or method in ("POST", "PUT", "PATCH") else {}
        for name, value in {**headers, **length, "Connection": "close"}.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        _within(sock, deadline)
        response = connection.getresponse()
        answer = b""
        while len(answer) < MAX_ANSWER_BYTES:
            _within(sock, deadline)
            chunk = response.read1(MAX_ANSWER_BYTES - len(answer))
            if not chunk:
                break
            answer += chunk
        return Answer(response.status, answer)
    finally:
        sock.close()


def _within(sock: socket.socket, deadline: float) -> None:
    """Every wait of the call ends by the deadline: the whole attempt is bounded."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the call took longer than its attempt may")
    sock.settimeout(remaining)
