"""Whether a driver may start charging: one decision, for the ledger's own API and for a charge
point operator's real-time authorization over OCPI (OCPI's AllowedType values)."""

from __future__ import annotations

from typing import Literal

from domain.aggregates.customer import AccountType, Customer

Allowed = Literal["ALLOWED", "NO_CREDIT", "BLOCKED"]
ALLOWED: Allowed = "ALLOWED"
NO_CREDIT: Allowed = "NO_CREDIT"
BLOCKED: Allowed = "BLOCKED"


def authorization(customer: Customer, *, token_valid: bool = True) -> Allowed:
    """Postpaid: ALLOWED. Prepaid: ALLOWED while the balance is above zero, else NO_CREDIT. An
    invalidated token, or a customer dunning has blocked (domain/dunning.py): BLOCKED."""
    if not token_valid or customer.blocked:
        return BLOCKED
    if customer.account_type == AccountType.POSTPAID or customer.balance_minor > 0:
        return ALLOWED
    return NO_CREDIT
