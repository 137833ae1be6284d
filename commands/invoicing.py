"""Collecting what invoices ask: payments recorded against them, and credit notes, numbered in
their own gapless series, that take back (part of) an invoice and credit the customer."""

from __future__ import annotations

import uuid

from commands.accounts import save_customer
from commands.application import position_of
from commands.dunning import end_dunning_if_settled
from commands.messages import ChangeCustomer, IssueCreditNote, RecordInvoicePayment
from commands.unit_of_work import Outcome, Services, retrying
from domain.aggregates import CreditNote, InvoiceNumbering
from domain.aggregates.invoice import CREDIT_NOTES, credit_note_number
from domain.errors import Unprocessable


def change_customer(cmd: ChangeCustomer, services: Services) -> Outcome:
    def attempt() -> Outcome:
        customer = services.ledger.get_customer(cmd.customer_id, cmd.emp_id)
        customer.change_details(cmd.changes, occurred_at=services.now_for(cmd.emp_id), caused_by=cmd.actor)
        recorded = (
            save_customer(services.ledger, customer, cmd.changes.get("external_ref"))
            if customer.pending_events
            else []
        )
        return Outcome(customer.id, position_of(recorded), created=False)

    return retrying(attempt)


def record_invoice_payment(cmd: RecordInvoicePayment, services: Services) -> Outcome:
    payment_id = uuid.uuid4()

    def attempt() -> Outcome:
        invoice = services.ledger.get_invoice(cmd.invoice_id, cmd.emp_id)
        now = services.now_for(cmd.emp_id)
        invoice.record_payment(
            payment_id,
            amount_minor=cmd.amount_minor,
            paid_at=cmd.paid_at,
            reference=cmd.reference,
            occurred_at=now,
            caused_by=cmd.actor,
        )
        customer = services.ledger.get_customer(invoice.customer_id, cmd.emp_id)
        end_dunning_if_settled(services, customer, invoice, occurred_at=now, caused_by=cmd.actor)
        return Outcome(payment_id, position_of(services.ledger.save(invoice, customer)))

    return retrying(attempt)


def issue_credit_note(cmd: IssueCreditNote, services: Services) -> Outcome:
    def attempt() -> Outcome:
        ledger = services.ledger
        invoice = ledger.get_invoice(cmd.invoice_id, cmd.emp_id)
        if (cmd.lines is None) != cmd.full:
            raise Unprocessable('give either lines or "full": true', field="lines")
        customer = ledger.get_customer(invoice.customer_id, cmd.emp_id)
        emp = ledger.get_emp(cmd.emp_id)
        numbering = ledger.find_invoice_numbering(cmd.emp_id, CREDIT_NOTES) or InvoiceNumbering(
            emp_id=cmd.emp_id, series=CREDIT_NOTES
        )
        now = services.now_for(cmd.emp_id)
        credit_note_id = CreditNote.create_id(cmd.emp_id, numbering.last_sequence + 1)
        lines = invoice.credit(
            credit_note_id, None if cmd.full else cmd.lines, occurred_at=now, caused_by=cmd.actor
        )
        sequence = numbering.assign(credit_note_id)
        credit_note = CreditNote.issue(
            reason=cmd.reason,
            lines=lines,
            emp_id=cmd.emp_id,
            customer_id=customer.id,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            invoice_issued_at=invoice.issued_at,
            sequence=sequence,
            number=credit_note_number(sequence),
            currency=invoice.currency,
            # The parties as the credited invoice names them: the credit note corrects it.
            seller=invoice.seller,
            buyer=invoice.buyer,
            delivery=emp.invoice_delivery,
            occurred_at=now,
            caused_by=cmd.actor,
        )
        customer.credit_invoice(
            credit_note_id=credit_note_id,
            credit_note_number=credit_note.number,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            amount_minor=credit_note.total_minor,
            occurred_at=now,
            caused_by=cmd.actor,
        )
        end_dunning_if_settled(services, customer, invoice, occurred_at=now, caused_by=cmd.actor)
        return Outcome(credit_note_id, position_of(ledger.save(invoice, customer, numbering, credit_note)))

    return retrying(attempt)
