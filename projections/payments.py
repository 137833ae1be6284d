"""The payments read model, asynchronous: card payments and their status (the card-payment
worker's work list), posted debits and whether they are paid (Recurring Payment's work list),
and the outbox of payment-failure mail (exactly one mail per failure)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any
from uuid import UUID, uuid5

from psycopg import Cursor

from domain.aggregates import Customer
from domain.notifications import NOTIFIED_PURPOSES, Mail, dunning_mail, payment_failure_mail
from projections.pipeline import AsyncProjection, Logged


class PaymentsProjection(AsyncProjection):
    name = "payments"
    topics = (
        Customer.CardPaymentRequested.TOPIC,
        Customer.CardPaymentSettled.TOPIC,
        Customer.CardPaymentProcessing.TOPIC,
        Customer.PaymentFailed.TOPIC,
        Customer.PrepaymentDebited.TOPIC,
        Customer.DebitSettled.TOPIC,
        Customer.DunningStepTaken.TOPIC,
        Customer.PersonalDataErased.TOPIC,
    )
    # The mail outbox is not emptied by a rebuild: each failure's mail is in it once, sent or not.
    tables = ("card_payments", "debits")

    def apply(self, cursor: Cursor[Any], events: Sequence[Logged]) -> None:
        for logged in events:
            self.apply_event(logged.event, cursor)

    @singledispatchmethod
    def apply_event(self, domain_event: Any, cursor: Cursor[Any]) -> None:
        """Events of no interest here."""

    @apply_event.register
    def _(self, e: Customer.CardPaymentRequested, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO card_payments (payment_id, customer_id, emp_id, purpose, amount_minor,"
            " status, requested_at) SELECT %s, id, emp_id, %s, %s, 'pending', %s"
            " FROM customers WHERE id = %s",
            (e.payment_id, e.charge.purpose, e.charge.amount_minor, e.timestamp, e.originator_id),
        )

    @apply_event.register
    def _(self, e: Customer.CardPaymentSettled, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "UPDATE card_payments SET status = 'approved', completed_at = %s, charge_id = %s"
            " WHERE payment_id = %s",
            (e.timestamp, e.charge_id, e.payment_id),
        )

    @apply_event.register
    def _(self, e: Customer.CardPaymentProcessing, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "UPDATE card_payments SET status = 'processing', charge_id = %s WHERE payment_id = %s",
            (e.charge_id, e.payment_id),
        )

    @apply_event.register
    def _(self, e: Customer.PaymentFailed, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "UPDATE card_payments SET status = 'declined', completed_at = %s, decline_code = %s"
            " WHERE payment_id = %s",
            (e.timestamp, e.decline_code, e.payment_id),
        )
        if e.purpose in NOTIFIED_PURPOSES and e.mailed:
            _queue_failure_mail(cursor, e)

    @apply_event.register
    def _(self, e: Customer.PrepaymentDebited, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "INSERT INTO debits (debit_id, customer_id, emp_id, package_code, amount_minor, due_at,"
            " status, settled_by, settled_at) SELECT %s, id, emp_id, %s, %s, %s, %s, %s, %s"
            " FROM customers WHERE id = %s",
            (
                e.debit_id,
                e.package_code,
                -e.amount_minor,
                e.period_start or e.occurred_at,
                "unpaid" if e.settled_by is None else "paid",
                e.settled_by,
                None if e.settled_by is None else e.occurred_at,
                e.originator_id,
            ),
        )

    @apply_event.register
    def _(self, e: Customer.DebitSettled, cursor: Cursor[Any]) -> None:
        cursor.execute(
            "UPDATE debits SET status = 'paid', settled_by = %s, settled_at = %s WHERE debit_id = %s",
            (e.settled_by, e.occurred_at, e.debit_id),
        )

    @apply_event.register
    def _(self, e: Customer.DunningStepTaken, cursor: Cursor[Any]) -> None:
        recipient = _recipient(cursor, e)
        if recipient is None:
            return
        mail = dunning_mail(
            name=recipient[1],
            step=e.step,
            overdue_minor=e.overdue_minor,
            currency=recipient[3],
            since=e.since,
            retried=e.retried,
            blocked=e.blocked,
        )
        _queue_mail(
            cursor, uuid5(e.originator_id, f"dunning-mail:{e.originator_version}"), e, recipient, mail
        )

    @apply_event.register
    def _(self, e: Customer.PersonalDataErased, cursor: Cursor[Any]) -> None:
        # The mail outbox keeps what was sent and when, without recipient or body; a mail not
        # sent yet never is.
        cursor.execute(
            "UPDATE mail_outbox SET recipient = NULL, body = '',"
            " status = CASE WHEN status = 'pending' THEN 'erased' ELSE status END WHERE customer_id = %s",
            (e.originator_id,),
        )


def _recipient(cursor: Cursor[Any], e: Customer.Event) -> tuple[Any, str, str, str] | None:
    """The customer's EMP, name, e-mail and currency."""
    cursor.execute("SELECT emp_id, name, email, currency FROM customers WHERE id = %s", (e.originator_id,))
    row = cursor.fetchone()
    return None if row is None or row[2] is None else (row[0], row[1], row[2], row[3].strip())


def _queue_failure_mail(cursor: Cursor[Any], e: Customer.PaymentFailed) -> None:
    recipient = _recipient(cursor, e)
    if recipient is None:
        return
    mail = payment_failure_mail(
        name=recipient[1],
        purpose=e.purpose,
        amount_minor=e.attempted_minor,
        currency=recipient[3],
        failed_at=e.occurred_at,
        decline_code=e.decline_code,
    )
    _queue_mail(cursor, uuid5(e.payment_id, "payment-failure-mail"), e, recipient, mail)


def _queue_mail(
    cursor: Cursor[Any], mail_id: UUID, e: Customer.Event, recipient: tuple[Any, str, str, str], mail: Mail
) -> None:
    """Exactly one mail per event: written here, in the projection's own transaction."""
    emp_id, _, email, _ = recipient
    cursor.execute(
        "INSERT INTO mail_outbox (id, emp_id, customer_id, recipient, subject, body, created_at,"
        " next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        # A rebuild replays failures: the mail of each is in the outbox once, sent or not.
        " ON CONFLICT (id) DO NOTHING",
        (
            mail_id,
            emp_id,
            e.originator_id,
            email,
            mail.subject,
            mail.body,
            e.timestamp,
            e.timestamp,
        ),
    )
