"""Domain errors. Each carries the contract's problem code and HTTP status; `api` maps them."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain-error"
    status = 422
    title = "The request breaks a ledger rule"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class ValidationFailed(DomainError):
    code = "validation-error"
    status = 400
    title = "The request is not valid"


class NotFound(DomainError):
    code = "not-found"
    status = 404
    title = "Not found"


class Duplicate(DomainError):
    code = "duplicate"
    status = 409
    title = "A unique key was reused with other data"


class PackageNotAllowed(DomainError):
    code = "package-not-allowed"
    title = "The package does not fit the subscription"


class TopUpNotApplicable(DomainError):
    code = "top-up-not-applicable"
    title = "Top-ups apply to prepaid accounts only"


class CardRequired(DomainError):
    code = "card-required"
    title = "A stored payment card is required"


class PaymentDeclined(DomainError):
    code = "payment-declined"
    status = 402
    title = "The payment was declined"


class InsufficientBalance(DomainError):
    code = "insufficient-balance"
    title = "The prepaid balance does not cover the amount"


class OverLimit(DomainError):
    """A payment or credit note larger than what is left open (or uncredited)."""

    code = "over-limit"
    title = "The amount is larger than what is left"


class InvalidPeriod(DomainError):
    code = "invalid-period"
    title = "The period is not valid"


class MethodNotAllowed(DomainError):
    """The request is well-formed but the resource's state does not take it (OCPI answers 405)."""

    code = "method-not-allowed"
    status = 405
    title = "Method not allowed"


class SetUpRequired(ValidationFailed):
    """A setting that must exist first is missing (the field names it)."""

    status = 422


class Unprocessable(ValidationFailed):
    """Well-formed, but it does not fit what it names (a line the invoice lacks, neither of two
    alternative fields): 422, the field named."""

    status = 422
