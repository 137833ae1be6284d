"""The calls chargeledger makes to a charge point operator during the OCPI credentials
handshake: its versions, then the details of version 2.2.1, read with the token it gave
(token B). Through the one outbound rule (commands/outbound.py): its timeouts, no redirect,
`https://` to public addresses unless insecure outbound calls are allowed."""

from __future__ import annotations

import base64
import http.client
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from commands.outbound import RefusedUrl, send

VERSION = "2.2.1"


class PeerUnreachable(Exception):
    """The operator's endpoints could not be used (OCPI status 3001); the message says why."""


class _Version(msgspec.Struct):
    version: str
    url: str


class _Endpoint(msgspec.Struct):
    identifier: str
    role: str
    url: str


class _Details(msgspec.Struct):
    version: str
    endpoints: list[_Endpoint]


class _Envelope(msgspec.Struct):
    status_code: int
    data: Any = None


@dataclass(frozen=True)
class PeerVersion:
    version: str
    url: str
    endpoints: dict[str, str]  # "identifier:role" -> url


def token_header(token: str) -> str:
    """OCPI 2.2's Authorization header: the token base64-encoded."""
    return "Token " + base64.b64encode(token.encode()).decode()


def fetch_version(versions_url: str, token: str, *, allow_insecure: bool) -> PeerVersion:
    """The operator's version 2.2.1 and its endpoints, or PeerUnreachable."""
    versions = _as(_get(versions_url, token, allow_insecure), list[_Version], versions_url)
    chosen = next((v for v in versions if v.version == VERSION), None)
    if chosen is None:
        offered = ", ".join(v.version for v in versions) or "none"
        raise PeerUnreachable(f"the operator offers no OCPI {VERSION} (it offers: {offered})")
    details = _as(_get(chosen.url, token, allow_insecure), _Details, chosen.url)
    endpoints = {f"{e.identifier}:{e.role}": e.url for e in details.endpoints}
    return PeerVersion(VERSION, chosen.url, endpoints)


def _as(data: Any, kind: Any, url: str) -> Any:
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as error:
        raise PeerUnreachable(f"{url} answered data OCPI does not define ({error})") from None


def _get(url: str, token: str, allow_insecure: bool) -> Any:
    request_id = str(uuid.uuid4())
    headers = {
        "Authorization": token_header(token),
        "Accept": "application/json",
        "X-Request-ID": request_id,
        "X-Correlation-ID": request_id,
    }
    try:
        answer = send("GET", url, b"", headers, allow_insecure=allow_insecure)
    except RefusedUrl as refused:
        raise PeerUnreachable(f"{url}: not called ({refused.detail})") from None
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise PeerUnreachable(f"{url}: {error or type(error).__name__}") from None
    if answer.status != 200:
        raise PeerUnreachable(f"{url} answered HTTP {answer.status}")
    try:
        envelope = msgspec.json.decode(answer.body, type=_Envelope)
    except msgspec.DecodeError as error:
        raise PeerUnreachable(f"{url} answered no OCPI response ({error})") from None
    if envelope.status_code != 1000:
        raise PeerUnreachable(f"{url} answered OCPI status {envelope.status_code}")
    return envelope.data
