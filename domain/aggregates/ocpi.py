"""The EMP's OCPI counterparts and what they send: a charge point operator connected to it
(a party), a driver's token, and each CDR as received.

Tokens for OCPI are kept only as SHA-256 digests: a stored event never holds a usable token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Duplicate, MethodNotAllowed

TOKEN_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/tokens")
CDR_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/cdrs")

PENDING = "pending"
CONNECTED = "connected"
UNREGISTERED = "unregistered"


class OcpiParty(Aggregate):
    """A CPO an EMP connects with: pending until it registers with token A, then connected
    with token C, unregistered for good once either side ends it."""

    TOPIC = "chargeledger:OcpiParty"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:OcpiParty.Event"
        occurred_at: datetime
        caused_by: str

    class Created(Aggregate.Created):
        TOPIC = "chargeledger:OcpiParty.Created"
        emp_id: UUID
        country_code: str
        party_id: str
        name: str
        markup_bp: int
        token_a_sha256: str
        occurred_at: datetime
        caused_by: str

    class Connected(Event):
        """The CPO registered: its versions URL and endpoints, read with its token B."""

        TOPIC = "chargeledger:OcpiParty.Connected"
        token_c_sha256: str
        versions_url: str
        version: str
        endpoints: dict[str, str]
        roles: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.status = CONNECTED
            aggregate.token_c_sha256 = self.token_c_sha256
            aggregate.versions_url = self.versions_url

    class CredentialsUpdated(Connected):
        TOPIC = "chargeledger:OcpiParty.CredentialsUpdated"

    class Unregistered(Event):
        TOPIC = "chargeledger:OcpiParty.Unregistered"

        def apply(self, aggregate: Any) -> None:
            aggregate.status = UNREGISTERED

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return uuid4()

    @event(Created)
    def __init__(
        self,
        emp_id: UUID,
        country_code: str,
        party_id: str,
        name: str,
        markup_bp: int,
        token_a_sha256: str,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.emp_id = emp_id
        self.country_code = country_code
        self.party_id = party_id
        self.name = name
        self.markup_bp = markup_bp
        self.token_a_sha256 = token_a_sha256
        self.token_c_sha256: str | None = None
        self.versions_url: str | None = None
        self.status = PENDING

    def connect(self, *, token_c_sha256: str, versions_url: str, version: str, endpoints: dict[str, str],
                roles: list[dict[str, Any]], occurred_at: datetime, caused_by: str) -> None:  # fmt: skip
        if self.status != PENDING:
            raise MethodNotAllowed("this party is registered already: update its credentials with PUT")
        self.trigger_event(
            self.Connected,
            token_c_sha256=token_c_sha256,
            versions_url=versions_url,
            version=version,
            endpoints=endpoints,
            roles=roles,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def update_credentials(self, *, token_c_sha256: str, versions_url: str, version: str,
                           endpoints: dict[str, str], roles: list[dict[str, Any]], occurred_at: datetime,
                           caused_by: str) -> None:  # fmt: skip
        if self.status != CONNECTED:
            raise MethodNotAllowed("this party has not registered: register with POST first")
        self.trigger_event(
            self.CredentialsUpdated,
            token_c_sha256=token_c_sha256,
            versions_url=versions_url,
            version=version,
            endpoints=endpoints,
            roles=roles,
            occurred_at=occurred_at,
            caused_by=caused_by,
        )

    def unregister(self, *, occurred_at: datetime, caused_by: str) -> None:
        if self.status != CONNECTED:
            raise MethodNotAllowed("this party has not registered: there is nothing to unregister")
        self.trigger_event(self.Unregistered, occurred_at=occurred_at, caused_by=caused_by)


class CustomerToken(Aggregate):
    """A driver's token (RFID card, app user): its uid names one customer of the EMP, compared
    case-insensitively; the deterministic id makes a second holder of a uid collide."""

    TOPIC = "chargeledger:CustomerToken"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:CustomerToken.Event"
        occurred_at: datetime
        caused_by: str

    class Issued(Aggregate.Created):
        TOPIC = "chargeledger:CustomerToken.Issued"
        emp_id: UUID
        customer_id: UUID
        uid: str
        type: str
        contract_id: str
        visual_number: str | None
        occurred_at: datetime
        caused_by: str

    class Invalidated(Event):
        TOPIC = "chargeledger:CustomerToken.Invalidated"

        def apply(self, aggregate: Any) -> None:
            aggregate.valid = False
            aggregate.last_updated = self.occurred_at

    @staticmethod
    def id_for(emp_id: UUID, uid: str) -> UUID:
        return uuid5(TOKEN_NAMESPACE, f"{emp_id}:{uid.upper()}")

    @staticmethod
    def create_id(emp_id: UUID, uid: str) -> UUID:
        return CustomerToken.id_for(emp_id, uid)

    @event(Issued)
    def __init__(
        self,
        emp_id: UUID,
        customer_id: UUID,
        uid: str,
        type: str,
        contract_id: str,
        visual_number: str | None,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.emp_id = emp_id
        self.customer_id = customer_id
        self.uid = uid
        self.type = type
        self.contract_id = contract_id
        self.visual_number = visual_number
        self.valid = True
        self.last_updated = occurred_at

    def invalidate(self, *, occurred_at: datetime, caused_by: str) -> None:
        if self.valid:
            self.trigger_event(self.Invalidated, occurred_at=occurred_at, caused_by=caused_by)


class ReceivedCdr(Aggregate):
    """A CDR exactly as its operator sent it, once per operator and CDR id: what it became (a
    session, a credit, or unmatched until the EMP assigns it to a customer)."""

    TOPIC = "chargeledger:ReceivedCdr"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:ReceivedCdr.Event"
        occurred_at: datetime
        caused_by: str

    class Received(Aggregate.Created):
        TOPIC = "chargeledger:ReceivedCdr.Received"
        emp_id: UUID
        party: UUID  # the OcpiParty that pushed it
        session_id: str  # country_code*party_id*id
        body: str  # the CDR's JSON as received
        digest: str
        token_uid: str
        customer_id: UUID | None  # None: no customer holds the token (unmatched)
        credit: bool
        cost_minor: int  # what the driver pays (a credit: gets back), markup included
        currency: str
        # The session it maps to (a credit: the credited session's id in credited_session_id).
        started_at: datetime
        ended_at: datetime
        energy_wh: int
        location: str | None
        credited_session_id: str | None
        occurred_at: datetime
        caused_by: str

    class Assigned(Event):
        """An unmatched CDR given to a customer by the EMP: now that customer's session."""

        TOPIC = "chargeledger:ReceivedCdr.Assigned"
        customer_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.customer_id = self.customer_id
            aggregate.assigned = True

    @staticmethod
    def id_for(emp_id: UUID, session_id: str) -> UUID:
        return uuid5(CDR_NAMESPACE, f"{emp_id}:{session_id}")

    @staticmethod
    def create_id(emp_id: UUID, session_id: str) -> UUID:
        return ReceivedCdr.id_for(emp_id, session_id)

    @event(Received)
    def __init__(
        self,
        emp_id: UUID,
        party: UUID,
        session_id: str,
        body: str,
        digest: str,
        token_uid: str,
        customer_id: UUID | None,
        credit: bool,
        cost_minor: int,
        currency: str,
        started_at: datetime,
        ended_at: datetime,
        energy_wh: int,
        location: str | None,
        credited_session_id: str | None,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.emp_id = emp_id
        self.party = party
        self.session_id = session_id
        self.body = body
        self.digest = digest
        self.token_uid = token_uid
        self.customer_id = customer_id
        self.credit = credit
        self.cost_minor = cost_minor
        self.currency = currency
        self.started_at = started_at
        self.ended_at = ended_at
        self.energy_wh = energy_wh
        self.location = location
        self.credited_session_id = credited_session_id
        self.assigned = False

    def assign(self, customer_id: UUID, *, occurred_at: datetime, caused_by: str) -> None:
        if self.customer_id is not None:
            raise Duplicate(f"CDR {self.session_id} was recorded as a session already", field="cdr_id")
        self.trigger_event(
            self.Assigned, customer_id=customer_id, occurred_at=occurred_at, caused_by=caused_by
        )
