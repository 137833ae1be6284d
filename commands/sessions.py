"""Charging sessions: recorded whatever the balance, once per EMP and session_id.

One handler records a batch of one or many sessions (the batcher's group commit, the bulk
route) and gives each the answer it would have had alone: recorded (201), the same session
again (200, the first answer's balance), other data under a used session_id (409), an unknown
customer (404), a bad period or amount (422/400). Sessions are new far more often than they
repeat, so a batch is written first and looked at only when its save collides."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from commands.application import position_of
from commands.messages import CreditSession, RecordSession
from commands.unit_of_work import RETRIES, Services, SessionRecorded, retrying
from domain.aggregates import ChargingSession, Customer, session_digest
from domain.errors import DomainError, Duplicate, InvalidPeriod, NotFound
from domain.money import check_amount

# Clocks of charge points drift: an end this far ahead of ours is still "now".
CLOCK_SKEW = timedelta(minutes=5)

SessionAnswer = SessionRecorded | DomainError


def check_session(cmd: RecordSession, now: datetime) -> None:
    if cmd.ended_at < cmd.started_at:
        raise InvalidPeriod("ended_at is before started_at", field="ended_at")
    if cmd.ended_at > now + CLOCK_SKEW:
        raise InvalidPeriod("ended_at is in the future", field="ended_at")
    check_amount(cmd.cost_minor, "cost_minor", allow_zero=True)


def digest_of(cmd: RecordSession) -> str:
    return session_digest(
        customer_id=cmd.customer_id,
        started_at=cmd.started_at,
        ended_at=cmd.ended_at,
        energy_wh=cmd.energy_wh,
        cost_minor=cmd.cost_minor,
        location=cmd.location,
    )


def record_session(cmd: RecordSession, services: Services) -> SessionRecorded:
    answer = record_sessions([cmd], services)[0]
    if isinstance(answer, DomainError):
        raise answer
    return answer


def record_sessions(
    commands: Sequence[RecordSession], services: Services, *, trust_cache: bool = True
) -> list[SessionAnswer]:
    """Answers in the order of `commands`. Each round records at most one session per
    session_id (a repeat within the batch is answered by the next round, as a repeat).
    `trust_cache`: charge the customers as this process last saved them, without reading
    newer events first (right where this process is the only writer; where several are, a
    stale copy costs a failed save)."""
    nows = {emp_id: services.now_for(emp_id) for emp_id in {cmd.emp_id for cmd in commands}}
    answers: list[SessionAnswer | None] = [None] * len(commands)
    for n, cmd in enumerate(commands):
        try:
            check_session(cmd, nows[cmd.emp_id])
        except DomainError as refused:
            answers[n] = refused
    as_cached = trust_cache
    for _ in range(RETRIES * 2):
        todo = [n for n, answer in enumerate(answers) if answer is None]
        if not todo:
            break
        round_ = _one_per_session_id(commands, todo)
        try:
            _record_round(commands, round_, answers, services, nows, as_cached=as_cached)
        except IntegrityError:
            if as_cached:  # most likely a copy another process overtook: once more, afresh
                as_cached = False
                continue
            # Some session was recorded before (its guard collided), or a customer moved on.
            for n in round_:
                guard = services.ledger.find_session(commands[n].emp_id, commands[n].session_id)
                if guard is not None:
                    answers[n] = _repeat_answer(guard, commands[n])
    if any(answer is None for answer in answers):
        raise IntegrityError("sessions kept colliding with concurrent writes")
    return [answer for answer in answers if answer is not None]


def _one_per_session_id(commands: Sequence[RecordSession], todo: list[int]) -> list[int]:
    seen: set[tuple[UUID, str]] = set()
    round_ = []
    for n in todo:
        key = (commands[n].emp_id, commands[n].session_id)
        if key not in seen:
            seen.add(key)
            round_.append(n)
    return round_


def _record_round(
    commands: Sequence[RecordSession],
    round_: list[int],
    answers: list[SessionAnswer | None],
    services: Services,
    nows: dict[UUID, datetime],
    *,
    as_cached: bool,
) -> None:
    ledger = services.ledger
    customers: dict[UUID, Customer] = {}
    changed: list[Any] = []
    charged: list[tuple[int, UUID, int]] = []
    for n in round_:
        cmd = commands[n]
        customer = customers.get(cmd.customer_id)
        try:
            if customer is None:
                customer = ledger.get_customer(cmd.customer_id, cmd.emp_id, as_cached=as_cached)
                customers[cmd.customer_id] = customer
            elif customer.emp_id != cmd.emp_id:
                raise NotFound(f"customer {cmd.customer_id} not found")
        except NotFound as unknown:
            answers[n] = unknown
            continue
        balance = customer.charge_session(
            session_id=cmd.session_id,
            started_at=cmd.started_at,
            ended_at=cmd.ended_at,
            energy_wh=cmd.energy_wh,
            cost_minor=cmd.cost_minor,
            location=cmd.location,
            now=nows[cmd.emp_id],
            caused_by=cmd.actor,
        )
        changed.append(
            ChargingSession(
                id=ChargingSession.id_for(cmd.emp_id, cmd.session_id),
                emp_id=cmd.emp_id,
                customer_id=customer.id,
                balance_after_minor=balance,
                digest=digest_of(cmd),
            )
        )
        charged.append((n, customer.id, balance))
    if not charged:
        return
    position = position_of(ledger.save(*customers.values(), *changed))
    for n, customer_id, balance in charged:
        answers[n] = SessionRecorded(customer_id, position, balance_minor=balance)


def _repeat_answer(guard: ChargingSession, cmd: RecordSession) -> SessionAnswer:
    if guard.digest != digest_of(cmd):
        return Duplicate(f"session_id {cmd.session_id!r} was recorded with other data", field="session_id")
    return SessionRecorded(guard.customer_id, None, created=False, balance_minor=guard.balance_after_minor)


def credit_session(cmd: CreditSession, services: Services) -> SessionRecorded:
    """A credit for a session, once per the credit's own session_id (its guard collides on a
    repeat): the same credit again answers the first answer's balance, other data 409."""
    ledger = services.ledger
    digest = session_digest(
        customer_id=cmd.customer_id,
        started_at=cmd.started_at,
        ended_at=cmd.ended_at,
        energy_wh=-abs(cmd.energy_wh),
        cost_minor=-cmd.credit_minor,
        location=cmd.location,
    )

    def attempt() -> SessionRecorded:
        guard = ledger.find_session(cmd.emp_id, cmd.session_id)
        if guard is not None:
            if guard.digest != digest:
                raise Duplicate(
                    f"session_id {cmd.session_id!r} was recorded with other data", field="session_id"
                )
            return SessionRecorded(
                guard.customer_id, None, created=False, balance_minor=guard.balance_after_minor
            )
        customer = ledger.get_customer(cmd.customer_id, cmd.emp_id)
        balance = customer.credit_session(
            session_id=cmd.session_id,
            credited_session_id=cmd.credited_session_id,
            started_at=cmd.started_at,
            ended_at=cmd.ended_at,
            energy_wh=cmd.energy_wh,
            credit_minor=cmd.credit_minor,
            location=cmd.location,
            occurred_at=services.now_for(cmd.emp_id),
            caused_by=cmd.actor,
        )
        guard = ChargingSession(
            id=ChargingSession.id_for(cmd.emp_id, cmd.session_id),
            emp_id=cmd.emp_id,
            customer_id=customer.id,
            balance_after_minor=balance,
            digest=digest,
        )
        position = position_of(ledger.save(customer, guard))
        return SessionRecorded(customer.id, position, balance_minor=balance)

    return retrying(attempt)
