"""What the history asked: a command sent again changes nothing, a refusal changes nothing, a used
session_id with other data is refused, a job processes every item."""

from __future__ import annotations

from collections.abc import Iterator

from tests.simulation.evidence import Evidence


def retried_commands_change_nothing(ev: Evidence) -> Iterator[str]:
    for repeat in ev.new_repeats:
        if repeat.first != repeat.second:
            yield f"{repeat.what}: first answered {repeat.first}, then {repeat.second}"
        elif repeat.span.recorded:
            recorded = [type(e).__qualname__ for e in ev.events_in(repeat.span)]
            yield f"{repeat.what}: the second time recorded {recorded}"


def a_refusal_changes_nothing(ev: Evidence) -> Iterator[str]:
    for refusal in ev.new_refusals:
        if not refusal.span.recorded:
            continue
        recorded = ev.events_in(refusal.span)
        names = [type(e).__qualname__ for e in recorded]
        moved = any(hasattr(e, "balance_after_minor") for e in recorded)
        if moved or not refusal.may_record_its_failure:
            error = f"{type(refusal.error).__name__}: {refusal.error}"
            yield f"{refusal.what}, refused ({error}), recorded {names}"


def a_used_session_id_with_other_data_is_refused(ev: Evidence) -> Iterator[str]:
    yield from ev.new_wrong_answers


def every_job_processes_every_item(ev: Evidence) -> Iterator[str]:
    yield from ev.new_job_failures
