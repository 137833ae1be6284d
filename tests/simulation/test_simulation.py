"""Seeded years of many customers: a few hundred in memory, a few on PostgreSQL where the read
models must agree too. `make simulate SEEDS=2000` runs more, `make simulate SEED=17` one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from chargeledger.system import System, build_system
from commands.ports import ManualClock
from commands.simulated_gateway import InMemoryGateway
from tests.simulation.invariants import INVARIANTS
from tests.simulation.invariants.read_models import READ_MODEL_INVARIANTS
from tests.simulation.simulation import SimulationFailed, recorded_streams, seeds_from_environment, simulate
from tests.simulation.write_side import in_memory_write_side, postgres_write_side

POSTGRES_SEEDS = [0, 1, 2]


def clock() -> ManualClock:
    return ManualClock(datetime(2000, 1, 1, tzinfo=UTC))


def keeps_every_invariant(run: Callable[[], object]) -> None:
    """Run a simulation: a broken invariant fails the test with the simulation's own report."""
    try:
        run()
    except SimulationFailed as failed:
        report = str(failed)
    else:
        return
    pytest.fail(report, pytrace=False)


@pytest.mark.parametrize("seed", seeds_from_environment())
def test_a_simulated_year_in_memory_keeps_every_invariant(seed: int) -> None:
    keeps_every_invariant(
        lambda: simulate(seed, in_memory_write_side(clock()), reproduce=f"make simulate SEED={seed}")
    )


@pytest.mark.parametrize("seed", POSTGRES_SEEDS)
def test_the_same_year_on_postgres_keeps_every_invariant_and_its_read_models_agree(
    fresh_database_url: str, seed: int, request: pytest.FixtureRequest
) -> None:
    systems: list[System] = []

    def build(clock: ManualClock, gateway: InMemoryGateway) -> System:
        system = build_system(fresh_database_url, pool_size=4, clock=clock, gateway=gateway)
        system.start_projections()
        systems.append(system)
        return system

    recorded: dict[str, dict[str, list[tuple[str, int | None]]]] = {}

    def on_postgres() -> None:
        history = simulate(
            seed,
            postgres_write_side(build, clock()),
            reproduce=f".venv/bin/pytest '{request.node.nodeid}'",
            invariants=(*INVARIANTS, *READ_MODEL_INVARIANTS),
        )
        recorded["postgres"] = recorded_streams(history)

    try:
        keeps_every_invariant(on_postgres)
    finally:
        for system in systems:
            system.close()
    in_memory = simulate(seed, in_memory_write_side(clock()), reproduce=f"make simulate SEED={seed}")
    assert recorded["postgres"] == recorded_streams(in_memory)  # the database changes no outcome
