"""Handlers for the EMP's OCPI side: the charge point operators it connects with, its drivers'
tokens, and CDRs, which become sessions through the one session path (commands/sessions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from commands.application import position_of
from commands.messages import (
    AssignCdr,
    ConnectOcpiParty,
    CreateOcpiParty,
    CreditSession,
    InvalidateToken,
    IssueToken,
    ReceiveCdr,
    RecordSession,
    UnregisterOcpiParty,
)
from commands.sessions import credit_session, record_session
from commands.unit_of_work import Outcome, Services, retrying
from domain.aggregates import CustomerToken, OcpiParty, ReceivedCdr
from domain.errors import Duplicate, NotFound, SetUpRequired, ValidationFailed
from domain.ocpi import check_markup


@dataclass(frozen=True)
class CdrReceived(Outcome):
    """`id` is the ReceivedCdr's; `customer_id` None: unmatched (nothing charged)."""

    customer_id: UUID | None = None


def create_party(cmd: CreateOcpiParty, services: Services) -> Outcome:
    emp = services.ledger.get_emp(cmd.emp_id)
    if emp.ocpi_country_code is None or emp.ocpi_party_id is None:
        raise SetUpRequired(
            "ocpi: set the EMP's own OCPI identity (PATCH /v1/emps/{id} with ocpi) first", field="ocpi"
        )
    party = OcpiParty(
        emp_id=cmd.emp_id,
        country_code=cmd.country_code,
        party_id=cmd.party_id,
        name=cmd.name,
        markup_bp=check_markup(cmd.markup_bp),
        token_a_sha256=cmd.token_a_sha256,
        occurred_at=services.now_for(cmd.emp_id),
        caused_by=cmd.actor,
    )
    return Outcome(party.id, position_of(services.ledger.save(party)))


def connect_party(cmd: ConnectOcpiParty, services: Services) -> Outcome:
    def attempt() -> Outcome:
        party = services.ledger.get_party(cmd.party, cmd.emp_id)
        change = party.update_credentials if cmd.update else party.connect
        change(
            token_c_sha256=cmd.token_c_sha256,
            versions_url=cmd.versions_url,
            version=cmd.version,
            endpoints=cmd.endpoints,
            roles=cmd.roles,
            occurred_at=services.now_for(cmd.emp_id),
            caused_by=cmd.actor,
        )
        return Outcome(party.id, position_of(services.ledger.save(party)), created=False)

    return retrying(attempt)


def unregister_party(cmd: UnregisterOcpiParty, services: Services) -> Outcome:
    def attempt() -> Outcome:
        party = services.ledger.get_party(cmd.party, cmd.emp_id)
        party.unregister(occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor)
        return Outcome(party.id, position_of(services.ledger.save(party)), created=False)

    return retrying(attempt)


def issue_token(cmd: IssueToken, services: Services) -> Outcome:
    ledger = services.ledger
    ledger.get_customer(cmd.customer_id, cmd.emp_id)  # not-found for another EMP's customer
    if ledger.find_token(cmd.emp_id, cmd.uid) is not None:
        raise Duplicate(f"uid {cmd.uid!r} is a token of this EMP already", field="uid")
    token = CustomerToken(
        emp_id=cmd.emp_id,
        customer_id=cmd.customer_id,
        uid=cmd.uid,
        type=cmd.type,
        contract_id=cmd.contract_id,
        visual_number=cmd.visual_number,
        occurred_at=services.now_for(cmd.emp_id),
        caused_by=cmd.actor,
    )
    try:
        return Outcome(token.id, position_of(ledger.save(token)))
    except IntegrityError:  # another request issued it a moment ago
        raise Duplicate(f"uid {cmd.uid!r} is a token of this EMP already", field="uid") from None


def invalidate_token(cmd: InvalidateToken, services: Services) -> Outcome:
    def attempt() -> Outcome:
        token = services.ledger.find_token(cmd.emp_id, cmd.uid)
        if token is None or token.customer_id != cmd.customer_id:
            raise NotFound(f"token {cmd.uid!r} not found")
        token.invalidate(occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor)
        position = position_of(services.ledger.save(token)) if token.pending_events else None
        return Outcome(token.id, position, created=False)

    return retrying(attempt)


def receive_cdr(cmd: ReceiveCdr, services: Services) -> CdrReceived:
    """Keep the CDR once, then record what it is: a session of the token's holder, a credit to
    the credited session's customer, or nothing yet (unmatched). A repeat does the recording
    again, which the session path answers as a repeat: a crash between the two steps is healed
    by the operator sending the CDR again, as it does when it got no answer."""
    ledger = services.ledger
    emp = ledger.get_emp(cmd.emp_id)
    if cmd.currency != emp.currency:
        raise ValidationFailed(
            f"currency: this eMSP bills in {emp.currency}, not {cmd.currency}", field="currency"
        )
    cdr = ledger.find_cdr(cmd.emp_id, cmd.session_id)
    if cdr is None:
        customer_id = _customer_of(cmd, services)
        cdr = ReceivedCdr(
            emp_id=cmd.emp_id,
            party=cmd.party,
            session_id=cmd.session_id,
            body=cmd.body,
            digest=cmd.digest,
            token_uid=cmd.token_uid,
            customer_id=customer_id,
            credit=cmd.credited_session_id is not None,
            cost_minor=cmd.cost_minor,
            currency=cmd.currency,
            started_at=cmd.started_at,
            ended_at=cmd.ended_at,
            energy_wh=cmd.energy_wh,
            location=cmd.location,
            credited_session_id=cmd.credited_session_id,
            occurred_at=services.now_for(cmd.emp_id),
            caused_by=cmd.actor,
        )
        try:
            ledger.save(cdr)
        except IntegrityError:  # the same CDR, pushed twice at once
            cdr = ledger.find_cdr(cmd.emp_id, cmd.session_id)
            assert cdr is not None
    if cdr.digest != cmd.digest:
        raise Duplicate(f"CDR {cmd.session_id} was received before with other data", field="id")
    if cdr.customer_id is not None:
        _record(cdr, cdr.customer_id, services, cmd.actor)
    return CdrReceived(cdr.id, None, customer_id=cdr.customer_id)


def _customer_of(cmd: ReceiveCdr, services: Services) -> UUID | None:
    ledger = services.ledger
    if cmd.credited_session_id is not None:
        credited = ledger.find_session(cmd.emp_id, cmd.credited_session_id)
        if credited is None:
            parked = ledger.find_cdr(cmd.emp_id, cmd.credited_session_id) is not None
            reason = "is unmatched: the EMP assigns it first" if parked else "is not known"
            raise ValidationFailed(
                f"credit_reference_id: the credited CDR {reason}", field="credit_reference_id"
            )
        return credited.customer_id
    if ledger.find_session(cmd.emp_id, cmd.session_id) is not None:
        raise Duplicate(f"session {cmd.session_id} was recorded before, not from this CDR", field="id")
    token = ledger.find_token(cmd.emp_id, cmd.token_uid)
    return None if token is None else token.customer_id


def _record(cdr: ReceivedCdr, customer_id: UUID, services: Services, actor: str) -> None:
    if cdr.credited_session_id is not None:
        credit_session(
            CreditSession(
                emp_id=cdr.emp_id,
                session_id=cdr.session_id,
                credited_session_id=cdr.credited_session_id,
                customer_id=customer_id,
                started_at=cdr.started_at,
                ended_at=cdr.ended_at,
                energy_wh=cdr.energy_wh,
                credit_minor=cdr.cost_minor,
                location=cdr.location,
                actor=actor,
            ),
            services,
        )
        return
    record_session(
        RecordSession(
            emp_id=cdr.emp_id,
            session_id=cdr.session_id,
            customer_id=customer_id,
            started_at=cdr.started_at,
            ended_at=cdr.ended_at,
            energy_wh=cdr.energy_wh,
            cost_minor=cdr.cost_minor,
            location=cdr.location,
            actor=actor,
        ),
        services,
    )


def assign_cdr(cmd: AssignCdr, services: Services) -> CdrReceived:
    """An unmatched CDR recorded once as the customer's session. The session first: a crash
    before the assignment is saved leaves the CDR listed, and assigning it again completes it."""
    ledger = services.ledger
    cdr = ledger.get_cdr(cmd.cdr, cmd.emp_id)
    if cdr.customer_id is not None:
        raise Duplicate(f"CDR {cdr.session_id} was recorded as a session already", field="cdr_id")
    ledger.get_customer(cmd.customer_id, cmd.emp_id)  # not-found for another EMP's customer
    _record(cdr, cmd.customer_id, services, cmd.actor)

    def attempt() -> CdrReceived:
        fresh = ledger.get_cdr(cmd.cdr, cmd.emp_id)
        fresh.assign(cmd.customer_id, occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor)
        return CdrReceived(fresh.id, position_of(ledger.save(fresh)), customer_id=cmd.customer_id)

    return retrying(attempt)
