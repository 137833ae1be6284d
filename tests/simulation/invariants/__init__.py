"""The invariants, one small function each, named for the rule: each yields what breaks it
(nothing when it holds). They are stated on the log, the aggregates, the gateway's charges and
what the history asked for; never on how the product computed its answer."""

from __future__ import annotations

from tests.simulation.evidence import Invariant
from tests.simulation.invariants.automatic_top_up import (
    at_most_one_automatic_top_up_in_flight,
    automatic_top_up_only_below_the_threshold,
    automatic_top_up_only_with_consent_and_card,
    no_automatic_top_up_within_24_hours_of_a_decline,
)
from tests.simulation.invariants.balance import (
    a_replay_from_the_store_gives_the_same_balance,
    balance_is_the_sum_of_its_movements,
    every_balance_after_is_the_running_sum,
)
from tests.simulation.invariants.billing import (
    every_billing_period_is_invoiced_once,
    every_debit_is_posted_and_paid_at_most_once,
    every_prepaid_period_is_debited_once,
    every_session_lands_on_one_invoice,
    invoice_numbers_are_gapless_per_emp,
)
from tests.simulation.invariants.card_payments import (
    a_failure_is_recorded_only_for_money_owed,
    a_package_paid_by_card_is_acquired_once_approved,
    each_payment_is_charged_at_most_once,
    every_card_credit_has_one_approved_charge,
    every_charge_takes_effect_once,
    no_payment_is_credited_twice,
    one_failure_record_per_declined_payment,
)
from tests.simulation.invariants.what_was_asked import (
    a_refusal_changes_nothing,
    a_used_session_id_with_other_data_is_refused,
    every_job_processes_every_item,
    retried_commands_change_nothing,
)

INVARIANTS: tuple[Invariant, ...] = (
    balance_is_the_sum_of_its_movements,
    every_balance_after_is_the_running_sum,
    a_replay_from_the_store_gives_the_same_balance,
    every_prepaid_period_is_debited_once,
    every_debit_is_posted_and_paid_at_most_once,
    every_billing_period_is_invoiced_once,
    invoice_numbers_are_gapless_per_emp,
    every_session_lands_on_one_invoice,
    each_payment_is_charged_at_most_once,
    every_card_credit_has_one_approved_charge,
    no_payment_is_credited_twice,
    every_charge_takes_effect_once,
    a_package_paid_by_card_is_acquired_once_approved,
    one_failure_record_per_declined_payment,
    a_failure_is_recorded_only_for_money_owed,
    at_most_one_automatic_top_up_in_flight,
    automatic_top_up_only_below_the_threshold,
    no_automatic_top_up_within_24_hours_of_a_decline,
    automatic_top_up_only_with_consent_and_card,
    retried_commands_change_nothing,
    a_refusal_changes_nothing,
    a_used_session_id_with_other_data_is_refused,
    every_job_processes_every_item,
)
