"""Invoice Production (seed 003): one invoice per completed postpaid billing period, numbered
gaplessly per EMP at issue, in one transaction with the sessions it bills."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commands.billing_queries import BillingQueries
from commands.unit_of_work import Services, retrying
from domain.aggregates import Invoice, InvoiceNumbering
from domain.aggregates.invoice import adjustment_lines, due_at_of, package_lines, session_lines
from domain.documents import buyer_details, seller_details


def invoice_completed_periods(
    services: Services,
    queries: BillingQueries,
    emp_id: UUID,
    subscription_id: UUID,
    as_of: datetime,
    actor: str,
) -> int:
    """Issue the invoices of every completed, uninvoiced period, oldest first."""
    issued = 0
    while retrying(lambda: _issue_next(services, queries, emp_id, subscription_id, as_of, actor)):
        issued += 1
    return issued


def _issue_next(
    services: Services,
    queries: BillingQueries,
    emp_id: UUID,
    subscription_id: UUID,
    as_of: datetime,
    actor: str,
) -> bool:
    ledger = services.ledger
    subscription = ledger.get_subscription(subscription_id, emp_id)
    emp = ledger.get_emp(emp_id)
    periods = subscription.completed_billing_periods(as_of, emp.zone)
    if not periods:
        return False
    period = periods[0]
    customer = ledger.get_customer(subscription.customer_id, emp_id)
    numbering = ledger.find_invoice_numbering(emp_id) or InvoiceNumbering(emp_id=emp_id)
    invoice_id = Invoice.create_id(subscription.id, period.index)
    # Read after the customer: a session recorded since is not on this list, and then the
    # invoice's save fails on the customer's version and is tried again with it.
    sessions = session_lines(queries.uninvoiced_sessions(customer.id, period.end), period.end)
    packages = list(subscription.packages.values())
    adjustments = adjustment_lines(customer.uninvoiced_adjustments, period.end)
    lines = package_lines(packages, period, subscription.billing_day, emp.zone) + sessions + adjustments
    now = services.now_for(emp_id)
    invoice = Invoice.issue(
        emp_id=emp_id,
        customer_id=customer.id,
        subscription_id=subscription.id,
        period=period,
        currency=emp.currency,
        sequence=numbering.assign(invoice_id),
        vat_rate_bp=emp.vat_rate_bp,
        lines=lines,
        occurred_at=now,
        caused_by=actor,
        seller=seller_details(emp),
        buyer=buyer_details(customer),
        due_at=due_at_of(now, emp.payment_terms_days, emp.zone),
        delivery=emp.invoice_delivery,
    )
    customer.record_sessions_invoiced(
        invoice_id,
        [line["reference"] for line in sessions],
        adjustment_ids=[line["reference"] for line in adjustments],
        occurred_at=now,
        caused_by=actor,
    )
    subscription.record_period_invoiced(period, invoice_id, occurred_at=now, caused_by=actor)
    ledger.save(subscription, customer, numbering, invoice)
    return True
