"""The accounts read model: EMPs and customers with balance, card and automatic top-up."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from psycopg import Cursor

from domain.aggregates import Customer, Emp
from projections.view import ReadModelProjection


class AccountsProjection(ReadModelProjection):
    name = "accounts"

    @singledispatchmethod
    def apply(self, domain_event: Any, cursor: Cursor[Any]) -> None:
        """Events of no interest here: tracked, not applied."""

    @apply.register
    def _(self, e: Emp.Registered, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO emps (id, name, currency, auto_top_up_threshold_minor,"
            " auto_top_up_amount_minor, created_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                e.originator_id,
                e.name,
                e.currency,
                e.auto_top_up_threshold_minor,
                e.auto_top_up_amount_minor,
                e.timestamp,
            ),
        )

    @apply.register
    def _(self, e: Customer.Registered, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO customers (id, emp_id, name, email, account_type, currency, external_ref,"
            " auto_top_up_threshold_minor, auto_top_up_amount_minor, created_at, updated_at,"
            " version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                e.originator_id,
                e.emp_id,
                e.name,
                e.email,
                e.account_type,
                e.currency,
                e.external_ref,
                e.auto_top_up_threshold_minor,
                e.auto_top_up_amount_minor,
                e.timestamp,
                e.timestamp,
                e.originator_version,
            ),
        )

    @apply.register
    def _(self, e: Customer.PaymentCardStored, cursor: Cursor[Any]) -> None:
        _update_customer(
            cursor,
            e,
            "card_brand = %s, card_last4 = %s, card_exp_month = %s, card_exp_year = %s",
            (e.brand, e.last4, e.exp_month, e.exp_year),
        )

    @apply.register
    def _(self, e: Customer.PaymentCardRemoved, cursor: Cursor[Any]) -> None:
        _update_customer(
            cursor,
            e,
            "card_brand = NULL, card_last4 = NULL, card_exp_month = NULL, card_exp_year = NULL",
            (),
        )

    @apply.register
    def _(self, e: Customer.AutoTopUpConsentGiven, cursor: Cursor[Any]) -> None:
        _update_customer(
            cursor,
            e,
            "auto_top_up_enabled = true, auto_top_up_threshold_minor = %s,"
            " auto_top_up_amount_minor = %s",
            (e.threshold_minor, e.amount_minor),
        )

    @apply.register
    def _(self, e: Customer.AutoTopUpConsentWithdrawn, cursor: Cursor[Any]) -> None:
        _update_customer(cursor, e, "auto_top_up_enabled = false", ())

    def reset(self, cursor: Cursor[Any]) -> None:
        cursor.execute("TRUNCATE emps, customers")


def _update_customer(
    cursor: Cursor[Any], e: Customer.Event, assignments: str, params: tuple[Any, ...]
) -> None:
    cursor.execute(
        f"UPDATE customers SET {assignments}, updated_at = %s, version = %s WHERE id = %s",
        (*params, e.timestamp, e.originator_version, e.originator_id),
    )
