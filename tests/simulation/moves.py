"""Which move comes next: each kind of move with its weight, drawn from the seed."""

from __future__ import annotations

from collections.abc import Callable

from tests.simulation.back_office_moves import BackOfficeMoves
from tests.simulation.customer_moves import CustomerMoves
from tests.simulation.history import History, Move
from tests.simulation.session_moves import SessionMoves


class Moves:
    def __init__(self, history: History) -> None:
        self.h = history
        customers = CustomerMoves(history)
        sessions = SessionMoves(history)
        office = BackOfficeMoves(history)
        self.weighted: list[tuple[Callable[[], Move | None], float]] = [
            (customers.subscribe, 1),
            (customers.store_card, 1.5),
            (customers.remove_card, 0.5),
            (customers.consent, 1.5),
            (customers.top_up, 3),
            (customers.purchase, 2),
            (customers.cancel, 0.5),
            (sessions.one, 10),
            (sessions.several, 3),
            (sessions.again, 2),
            (sessions.other_data, 0.3),
            (office.adjustment, 1),
            (office.job, 3),
            (office.night, 1.5),
            (office.card_payment_worker, 4),
        ]
        self.registrations = [(customers.register, 4.0), (customers.imported, 1.0)]

    def choose(self) -> Move:
        growing = len(self.h.customers) < self.h.population
        registrations = [(move, weight if growing else weight / 20) for move, weight in self.registrations]
        candidates = registrations + (self.weighted if self.h.customers else [])
        while True:
            moves, weights = zip(*candidates, strict=True)
            move = self.h.rng.choices(moves, weights=weights)[0]()
            if move is not None:
                return move
