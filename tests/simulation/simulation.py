"""Run one seed: its history step by step, every invariant after every step, and all of them
over every stream at the end. A broken invariant stops the run with the seed, the step, the
invariant, what broke it, the command that runs the seed again and the last steps."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from functools import partial
from typing import NoReturn

from tests.simulation.evidence import Auditor, Evidence, Invariant
from tests.simulation.history import History, Step
from tests.simulation.invariants import INVARIANTS
from tests.simulation.moves import Moves
from tests.simulation.write_side import WriteSide

STEPS = 200  # per seed: a few hundred seeds of 200 steps take under a minute on two cores
DEFAULT_SEEDS = 200
CONTEXT_STEPS = 8


def seeds_from_environment(default: int = DEFAULT_SEEDS) -> list[int]:
    """`SIMULATION_SEED=17` runs that seed alone; `SIMULATION_SEEDS=2000` seeds 0 to 1999."""
    one = os.environ.get("SIMULATION_SEED", "").strip()
    if one:
        return [int(one)]
    many = os.environ.get("SIMULATION_SEEDS", "").strip()
    return list(range(int(many) if many else default))


class SimulationFailed(AssertionError):
    pass


def simulate(
    seed: int,
    side: WriteSide,
    *,
    reproduce: str,
    steps: int = STEPS,
    invariants: Sequence[Invariant] = INVARIANTS,
) -> History:
    """Run the seed's history on `side`; the history, when every invariant held."""
    history = History(seed, side, steps=steps)
    auditor = Auditor(side, history)
    done: list[Step] = []

    def fail(number: int, invariant: str, detail: str) -> NoReturn:
        context = "\n".join(f"  {step.number:4d} {step.what}" for step in done[-CONTEXT_STEPS:])
        raise SimulationFailed(
            f"simulation seed {seed} failed at step {number}: {invariant}: {detail}\n"
            f"reproduce: {reproduce}\n"
            f"the last steps:\n{context}"
        )

    for step in history.steps(Moves(history).choose):
        done.append(step)
        try:
            step.run()
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            detail = f"{type(error).__name__}: {error} ({where.filename}:{where.lineno})"
            fail(step.number, "every_command_answers_or_refuses", detail)
        check(auditor.evidence(), invariants, partial(fail, step.number))
    check(auditor.evidence(everything=True), invariants, partial(fail, len(done)))
    return history


def recorded_streams(history: History) -> dict[str, list[tuple[str, int | None]]]:
    """Each customer's events as kinds and amounts: what the same history must record on any
    write side (ids and instants of recording aside)."""
    ledger = history.side.ledger
    return {
        customer.label: [
            (type(e).__name__, getattr(e, "amount_minor", None)) for e in ledger.events.get(customer.id)
        ]
        for customer in history.customers
    }


def check(evidence: Evidence, invariants: Sequence[Invariant], fail: Callable[[str, str], None]) -> None:
    for invariant in invariants:
        for detail in invariant(evidence):
            fail(invariant.__name__, detail)
