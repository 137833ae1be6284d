"""Automatic top-up (seed 000, option 1): one in flight at most, only below the threshold, with
consent and a card, never within 24 hours of a declined one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from tests.simulation.evidence import Evidence

DECLINE_PAUSE = timedelta(hours=24)


def at_most_one_automatic_top_up_in_flight(ev: Evidence) -> Iterator[str]:
    for request in ev.new_automatic_top_ups:
        if request.in_flight is not None:
            yield (
                f"{ev.label(request.customer_id)}: {request.payment_id} requested at {request.at}"
                f" while {request.in_flight} was in flight"
            )


def automatic_top_up_only_below_the_threshold(ev: Evidence) -> Iterator[str]:
    for request in ev.new_automatic_top_ups:
        if request.balance_minor >= request.threshold_minor:
            yield (
                f"{ev.label(request.customer_id)}: requested at {request.at} with the balance at"
                f" {request.balance_minor}, the threshold {request.threshold_minor}"
            )


def no_automatic_top_up_within_24_hours_of_a_decline(ev: Evidence) -> Iterator[str]:
    for request in ev.new_automatic_top_ups:
        declined = request.last_declined_at
        if declined is not None and request.at - declined < DECLINE_PAUSE:
            yield (
                f"{ev.label(request.customer_id)}: requested at {request.at:%Y-%m-%d %H:%M:%S},"
                f" the last one was declined at {declined:%Y-%m-%d %H:%M:%S}"
            )


def automatic_top_up_only_with_consent_and_card(ev: Evidence) -> Iterator[str]:
    for request in ev.new_automatic_top_ups:
        if not (request.prepaid and request.consent and request.card):
            yield (
                f"{ev.label(request.customer_id)}: requested at {request.at} with prepaid"
                f" {request.prepaid}, consent {request.consent}, card {request.card}"
            )
