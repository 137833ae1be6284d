"""A charge point operator for tests: a real HTTP server on a local port that answers its OCPI
versions and version details (built from the official examples, re-based to its own address),
and an httpx client that speaks OCPI to chargeledger with the tokens it was given.

The official example files are never changed (CC BY-ND 4.0): every adaptation is made here, on
a copy in memory."""

from __future__ import annotations

import base64
import copy
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ServedApp, Tenant, make_tenant
from tests.e2e.ledger_story import customer

EXAMPLES = Path(__file__).resolve().parent / "ocpi_examples" / "examples"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def example_text(name: str) -> str:
    return (EXAMPLES / name).read_text()


def token_header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


def official_cdr(
    *, country_code: str, party_id: str, uid: str, cdr_id: str | None = None, **changes: Any
) -> dict[str, Any]:
    """The specification's example CDR, as this operator sends it: its own party, a customer's
    token uid and a fresh id. Known defect of the example: latitude and longitude are swapped
    (Gent is at 51.05 N, 3.73 E); they are put right here."""
    cdr: dict[str, Any] = copy.deepcopy(example("cdr_example.json"))
    coordinates = cdr["cdr_location"]["coordinates"]
    coordinates["latitude"], coordinates["longitude"] = coordinates["longitude"], coordinates["latitude"]
    cdr["country_code"], cdr["party_id"] = country_code, party_id
    cdr["id"] = cdr_id or f"CDR-{uuid.uuid4().hex[:12]}"
    cdr["cdr_token"]["uid"] = uid
    cdr.update(changes)
    return cdr


def cdr_json(cdr: dict[str, Any], **decimals: str) -> bytes:
    """The CDR as JSON, with some numbers written exactly as given (`"total_cost.incl_vat": "4.405"`):
    a float could not carry them."""
    text = json.dumps(cdr)
    marker = {path: f"__DECIMAL_{n}__" for n, path in enumerate(decimals)}
    patched = json.loads(text)
    for path, placeholder in marker.items():
        *parents, leaf = path.split(".")
        target = patched
        for part in parents:
            target = target[part]
        target[leaf] = placeholder
    text = json.dumps(patched)
    for path, placeholder in marker.items():
        text = text.replace(f'"{placeholder}"', decimals[path])
    return text.encode()


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class LocalCpo:
    """Its versions are served with the example files' data; `token_b` is what it hands to
    chargeledger; `down` makes its server answer 503 (unreachable for the handshake)."""

    country_code: str = "NL"
    party_id: str = "EXA"
    token_b: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    down: bool = False
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        cpo = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {name.lower(): value for name, value in self.headers.items()}
                cpo.seen.append(Seen(self.path, headers))
                if cpo.down:
                    self._send(503, b"down for maintenance")
                    return
                if headers.get("authorization") != token_header(cpo.token_b):
                    self._send(401, json.dumps(cpo.envelope(None, 2000)).encode())
                    return
                data = {"/ocpi/versions": cpo.versions, "/ocpi/2.2.1": cpo.version_details}.get(self.path)
                if data is None:
                    self._send(404, json.dumps(cpo.envelope(None, 2000)).encode())
                    return
                self._send(200, json.dumps(cpo.envelope(data(), 1000)).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def envelope(data: Any, status_code: int) -> dict[str, Any]:
        body: dict[str, Any] = {"status_code": status_code, "timestamp": datetime.now(UTC).isoformat()}
        if data is not None:
            body["data"] = data
        return body

    def versions(self) -> Any:
        """versions_info_example.json, each version's URL at this server."""
        versions = example("versions_info_example.json")
        for version in versions:
            version["url"] = f"{self.base_url}/ocpi/{version['version']}"
        return versions

    def version_details(self) -> Any:
        """version_details_example.json (written for 2.2), as this server's 2.2.1 endpoints."""
        details = example("version_details_example.json")
        details["version"] = "2.2.1"
        for endpoint in details["endpoints"]:
            endpoint["url"] = (
                endpoint["url"].replace("https://example.com", self.base_url).replace("/2.2/", "/2.2.1/")
            )
        return details

    def credentials(self) -> dict[str, Any]:
        """credentials_example.json with this operator's token B and versions URL."""
        credentials: dict[str, Any] = example("credentials_example.json")
        credentials["token"] = self.token_b
        credentials["url"] = self.versions_url
        role = credentials["roles"][0]
        role["country_code"], role["party_id"] = self.country_code, self.party_id
        return credentials

    def client(self, ledger_url: str, token: str, *, raw: bool = False) -> httpx.Client:
        """Speaks OCPI to chargeledger: base64-encoded token, or `raw` as older peers send it."""
        authorization = f"Token {token}" if raw else token_header(token)
        return httpx.Client(base_url=ledger_url, headers={"Authorization": authorization}, timeout=30.0)

    def register(self, ledger_url: str, token_a: str) -> httpx.Response:
        with self.client(ledger_url, token_a) as client:
            return client.post("/ocpi/2.2.1/credentials", json=self.credentials())


def recent(days: int = 1) -> dict[str, str]:
    """Start and end instants in the recent past, as OCPI writes them."""
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)
    start = end - timedelta(hours=2)
    return {
        "start_date_time": start.isoformat().replace("+00:00", "Z"),
        "end_date_time": end.isoformat().replace("+00:00", "Z"),
    }


@dataclass
class Connection:
    """A tenant connected with a CPO: the party, its tokens and an OCPI client with token C."""

    tenant: Tenant
    cpo: LocalCpo
    party: dict[str, Any]
    token_c: str
    ocpi: httpx.Client

    def push(self, cdr: dict[str, Any], **decimals: str) -> httpx.Response:
        return self.ocpi.post(
            "/ocpi/2.2.1/cdrs",
            content=cdr_json(cdr, **decimals),
            headers={"content-type": "application/json"},
        )

    def cdr(self, uid: str, **changes: Any) -> dict[str, Any]:
        return official_cdr(
            country_code=self.cpo.country_code, party_id=self.cpo.party_id, uid=uid, **changes
        )


def ocpi_tenant(
    served: ServedApp, admin: httpx.Client, party_id: str = "VLT", test_clock: datetime | None = None
) -> Tenant:
    tenant = make_tenant(served, admin, test_clock=test_clock)
    changed = admin.patch(
        f"/v1/emps/{tenant.id}", json={"ocpi": {"country_code": "fi", "party_id": party_id}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["ocpi"] == {"country_code": "FI", "party_id": party_id}
    return tenant


def create_party(tenant: Tenant, cpo: LocalCpo, markup_bp: int = 0) -> dict[str, Any]:
    created = tenant.emp.post(
        "/v1/ocpi/parties",
        json={
            "country_code": cpo.country_code,
            "party_id": cpo.party_id,
            "name": "Example Operator",
            "markup_bp": markup_bp,
        },
    )
    assert created.status_code == 201, created.text
    party: dict[str, Any] = created.json()
    return party


def connect(
    served: ServedApp,
    admin: httpx.Client,
    cpo: LocalCpo,
    markup_bp: int = 0,
    test_clock: datetime | None = None,
) -> Connection:
    """An EMP with its OCPI identity, connected with `cpo` through the whole handshake."""
    tenant = ocpi_tenant(served, admin, test_clock=test_clock)
    party = create_party(tenant, cpo, markup_bp=markup_bp)
    registered = cpo.register(served.base_url, party["token_a"])
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert body["status_code"] == 1000, body
    token_c = body["data"]["token"]
    return Connection(tenant, cpo, party, token_c, cpo.client(served.base_url, token_c))


def with_token(
    tenant: Tenant, account_type: str, uid: str | None = None, **card: Any
) -> tuple[dict[str, Any], str]:
    made = customer(tenant, account_type, **card)
    uid = uid or f"RFID{uuid.uuid4().hex[:10].upper()}"
    issued = tenant.emp.post(
        f"/v1/customers/{made['id']}/tokens",
        json={"uid": uid, "type": "RFID", "contract_id": f"FI-VLT-{uid[:8]}"},
    )
    assert issued.status_code == 201, issued.text
    return made, uid
