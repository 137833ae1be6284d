"""The command bus: one handler per command, looked up by the command's type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands import (
    accounts,
    adjustments,
    catalog,
    invoicing,
    messages,
    ocpi,
    registration,
    sessions,
    subscriptions,
    top_ups,
)
from commands.card_payments import complete_card_payment
from commands.erasure import erase_personal_data
from commands.unit_of_work import Outcome, Services

HANDLERS: dict[type, Callable[[Any, Services], Outcome]] = {
    messages.RegisterEmp: accounts.register_emp,
    messages.ChangeEmp: accounts.change_emp,
    messages.RegisterCustomer: accounts.register_customer,
    messages.StorePaymentCard: accounts.store_payment_card,
    messages.StartCardSetup: accounts.start_card_setup,
    messages.RemovePaymentCard: accounts.remove_payment_card,
    messages.SetAutoTopUp: accounts.set_auto_top_up,
    messages.DefinePackage: catalog.define_package,
    messages.StartSubscription: subscriptions.start_subscription,
    messages.PurchasePackage: subscriptions.purchase_package,
    messages.CancelPackage: subscriptions.cancel_package,
    messages.EndSubscription: subscriptions.end_subscription,
    messages.ChangeBasePackage: subscriptions.change_base_package,
    messages.RecordSession: sessions.record_session,
    messages.TopUpBalance: top_ups.top_up_balance,
    messages.Register: registration.register,
    messages.CompleteCardPayment: complete_card_payment,
    messages.RecordAdjustment: adjustments.record_adjustment,
    messages.CreditSession: sessions.credit_session,
    messages.CreateOcpiParty: ocpi.create_party,
    messages.ConnectOcpiParty: ocpi.connect_party,
    messages.UnregisterOcpiParty: ocpi.unregister_party,
    messages.IssueToken: ocpi.issue_token,
    messages.InvalidateToken: ocpi.invalidate_token,
    messages.ReceiveCdr: ocpi.receive_cdr,
    messages.AssignCdr: ocpi.assign_cdr,
    messages.ChangeCustomer: invoicing.change_customer,
    messages.RecordInvoicePayment: invoicing.record_invoice_payment,
    messages.IssueCreditNote: invoicing.issue_credit_note,
    messages.ErasePersonalData: erase_personal_data,
}


def handle(command: object, services: Services) -> Outcome:
    return HANDLERS[type(command)](command, services)
