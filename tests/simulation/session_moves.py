"""Charging sessions as charge point operators send them: one at a time, several at once, the
same again (a client retry, at once or days later), and other data under a used session_id."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from commands.messages import RecordSession
from domain.errors import DomainError, Duplicate
from tests.simulation.answers import Refusal, Repeat, Span, answer_of
from tests.simulation.history import History, Move


class SessionMoves:
    def __init__(self, history: History) -> None:
        self.h = history
        self.rng = history.rng
        self.count = 0
        self.sent: list[tuple[RecordSession, tuple[Any, ...]]] = []  # recorded, with the first answer

    def _session(self) -> RecordSession | None:
        c = self.h.someone()
        if c is None:
            return None
        rng = self.rng
        self.count += 1
        now = self.h.side.clock.now()
        # Most end just now; some arrive late, a few after their billing period was invoiced.
        late = rng.choices([timedelta(hours=2), timedelta(days=2), timedelta(days=20)], weights=(70, 25, 5))[
            0
        ]
        ended = now - timedelta(seconds=rng.randrange(int(late.total_seconds())))
        started = ended - timedelta(minutes=rng.randint(5, 240))
        energy = rng.randint(0, 60_000)
        cost = rng.choice([0, rng.randint(1, 3000)])
        location = rng.choice([None, "FI-CPO-1", "DE-CPO-7"])
        return RecordSession(c.emp.id, f"S{self.count}", c.id, started, ended, energy, cost, location, "cpo")

    def one(self) -> Move | None:
        command = self._session()
        if command is None:
            return None
        label = self.h.label(command.customer_id)
        return f"{label} charges {command.cost_minor} ({command.session_id})", lambda: self._send([command])

    def several(self) -> Move | None:
        commands = [c for c in (self._session() for _ in range(self.rng.randint(2, 6))) if c is not None]
        if not commands:
            return None
        if self.rng.random() < 0.3:
            commands.insert(self.rng.randrange(len(commands) + 1), self.rng.choice(commands))
        ids = ", ".join(c.session_id for c in commands)
        return f"sessions at once: {ids}", lambda: self._send(commands)

    def _send(self, commands: list[RecordSession]) -> None:
        h = self.h
        after = h.side.head()
        answers = h.send_sessions(commands)
        first_of: dict[str, Any] = {}
        for command, answer in zip(commands, answers, strict=True):
            if isinstance(answer, DomainError):
                if len(commands) == 1:
                    h.refusals.append(Refusal(command.session_id, answer, Span(after, h.side.head())))
                continue
            if command.session_id in first_of:  # the same session twice in one batch
                what = f"{command.session_id} twice in one batch"
                h.repeats.append(Repeat(what, first_of[command.session_id], answer_of(answer), Span(0, 0)))
                continue
            first_of[command.session_id] = answer_of(answer)
            self.sent.append((command, answer_of(answer)))

    def again(self) -> Move | None:
        if not self.sent:
            return None
        recent = self.sent[-5:] if self.rng.random() < 0.6 else self.sent
        command, first = self.rng.choice(recent)
        what = f"{command.session_id} is sent again"

        def run() -> None:
            h = self.h
            after = h.side.head()
            (second,) = h.send_sessions([command])
            h.repeats.append(Repeat(what, first, answer_of(second), Span(after, h.side.head())))

        return what, run

    def other_data(self) -> Move | None:
        if not self.sent:
            return None
        command, _ = self.rng.choice(self.sent)
        changed = replace(command, cost_minor=command.cost_minor + 1)
        what = f"{command.session_id} is sent with other data"

        def run() -> None:
            h = self.h
            after = h.side.head()
            (answer,) = h.send_sessions([changed])
            if not isinstance(answer, Duplicate):
                h.wrong_answers.append(f"{what}: answered {answer_of(answer)}, not a Duplicate")
            if isinstance(answer, DomainError):
                h.refusals.append(Refusal(what, answer, Span(after, h.side.head())))

        return what, run
