"""What customers do in a simulated history: register (the registration site, or an import
by external reference), store and remove cards, give and withdraw consent, start a
subscription, top up, buy and cancel packages."""

from __future__ import annotations

from commands.messages import (
    CancelPackage,
    PurchasePackage,
    Register,
    RegisterCustomer,
    RemovePaymentCard,
    SetAutoTopUp,
    StartSubscription,
    StorePaymentCard,
    TopUpBalance,
)
from domain.aggregates import PaymentCard
from domain.errors import DomainError
from tests.simulation.history import History, Move, SimulatedCustomer

CARDS = {
    "tok_visa": PaymentCard("tok_visa", "visa", "4242", 12, 2030),
    "tok_mastercard": PaymentCard("tok_mastercard", "mastercard", "4444", 12, 2030),
    "tok_visa_debit": PaymentCard("tok_visa_debit", "visa", "5556", 12, 2030),
    "tok_amex": PaymentCard("tok_amex", "amex", "8431", 12, 2030),
    "tok_chargeCustomerFail": PaymentCard("tok_chargeCustomerFail", "visa", "0341", 12, 2030),  # declines
    "tok_chargeDeclined": PaymentCard("tok_chargeDeclined", "visa", "0002", 12, 2030),  # never stored
}
CARD_WEIGHTS = (3, 3, 1, 1, 1.5, 0.5)
BASE = {"prepaid": "BASE-PRE", "postpaid": "BASE-POST"}
PURCHASABLE = ("BOLT-PRE", "BOLT-POST", "ONCE", "TOP-UP", "BASE-PRE")
PURCHASE_WEIGHTS = (3, 3, 3, 2, 0.2)


class CustomerMoves:
    def __init__(self, history: History) -> None:
        self.h = history
        self.rng = history.rng

    def card(self) -> PaymentCard:
        return self.rng.choices(list(CARDS.values()), weights=CARD_WEIGHTS)[0]

    def register(self) -> Move:
        h, rng = self.h, self.rng
        emp = rng.choice(h.emps)
        label = h.new_name()
        account = "prepaid" if rng.random() < 0.6 else "postpaid"
        card = self.card() if rng.random() < (0.85 if account == "prepaid" else 0.4) else None
        consent = (account == "prepaid" and card is not None and rng.random() < 0.6) or rng.random() < 0.03
        other = "postpaid" if account == "prepaid" else "prepaid"
        base = rng.choices([BASE[account], None, BASE[other]], weights=(80, 15, 5))[0]
        command = Register(
            emp.id, label, f"{label}@example.com", account, card, consent, base, "registration"
        )

        def run() -> None:
            answer = h.send(command, f"{label} registers")
            if not isinstance(answer, DomainError):
                h.add_customer(SimulatedCustomer(label, answer.id, emp, account, answer.subscription_id))

        card_text = card.token if card else "no card"
        return (
            f"{label} registers {account} at {emp.label}: {card_text}, consent {consent}, base {base}",
            run,
        )

    def imported(self) -> Move:
        """An import by external reference: nothing but the customer, sometimes sent twice."""
        h, rng = self.h, self.rng
        emp = rng.choice(h.emps)
        label = h.new_name()
        account = "prepaid" if rng.random() < 0.6 else "postpaid"
        command = RegisterCustomer(emp.id, label, f"{label}@example.com", account, f"crm-{label}", "import")
        twice = rng.random() < 0.3

        def run() -> None:
            send = h.send_twice if twice else h.send
            answer = send(command, f"{label} is imported")
            if not isinstance(answer, DomainError):
                h.add_customer(SimulatedCustomer(label, answer.id, emp, account))

        return f"{label} is imported as {account} at {emp.label}{' (twice)' if twice else ''}", run

    def subscribe(self) -> Move | None:
        h, rng = self.h, self.rng
        duplicate = rng.random() < 0.1
        c = h.someone(lambda c: (c.subscription_id is not None) == duplicate)
        if c is None:
            return None
        other = "postpaid" if c.account_type == "prepaid" else "prepaid"
        base = BASE[c.account_type] if rng.random() < 0.9 else BASE[other]
        billing_day = None if rng.random() < 0.6 else rng.randint(1, 31)
        command = StartSubscription(c.emp.id, c.id, base, billing_day, "api")

        def run() -> None:
            answer = h.send(command, f"{c.label} subscribes")
            if not isinstance(answer, DomainError):
                c.subscription_id = answer.id

        return f"{c.label} subscribes to {base}, billing day {billing_day}", run

    def store_card(self) -> Move | None:
        c = self.h.someone()
        if c is None:
            return None
        card = self.card()
        command = StorePaymentCard(c.emp.id, c.id, card, "portal")
        return f"{c.label} stores {card.token}", lambda: self.h.send(command, f"{c.label} stores a card")

    def remove_card(self) -> Move | None:
        c = self.h.someone()
        if c is None:
            return None
        command = RemovePaymentCard(c.emp.id, c.id, "portal")
        return f"{c.label} removes the card", lambda: self.h.send(command, f"{c.label} removes the card")

    def consent(self) -> Move | None:
        rng = self.rng
        c = self.h.someone(lambda c: c.account_type == "prepaid" or rng.random() < 0.1)
        if c is None:
            return None
        enabled = rng.random() < 0.7
        threshold = None if rng.random() < 0.5 else rng.choice([0, 500, 1000, 2500])
        amount = None if rng.random() < 0.5 else rng.choice([500, 2000, 5000])
        command = SetAutoTopUp(c.emp.id, c.id, enabled, threshold, amount, "portal")
        verb = f"consents to automatic top-up ({threshold}, {amount})" if enabled else "withdraws consent"
        return f"{c.label} {verb}", lambda: self.h.send(command, f"{c.label} {verb}")

    def top_up(self) -> Move | None:
        h, rng = self.h, self.rng
        c = h.someone(lambda c: c.account_type == "prepaid" or rng.random() < 0.15)
        if c is None:
            return None
        key = h.new_key("top-up") if rng.random() < 0.85 else None
        twice = key is not None and rng.random() < 0.25
        amount = rng.choice([500, 1000, 2500, 5000])
        command = TopUpBalance(c.emp.id, c.id, amount, "portal", request_key=key)
        send = h.send_twice if twice else h.send
        what = f"{c.label} tops up {amount} (key {key}){' twice' if twice else ''}"
        return what, lambda: send(command, what)

    def purchase(self) -> Move | None:
        h, rng = self.h, self.rng
        c = h.someone(lambda c: c.subscription_id is not None)
        if c is None or c.subscription_id is None:
            return None
        code = rng.choices(PURCHASABLE, weights=PURCHASE_WEIGHTS)[0]
        key = h.new_key("purchase") if rng.random() < 0.85 else None
        twice = key is not None and rng.random() < 0.25
        command = PurchasePackage(c.emp.id, c.subscription_id, code, "api", request_key=key)
        what = f"{c.label} buys {code} (key {key}){' twice' if twice else ''}"

        def run() -> None:
            answer = (h.send_twice if twice else h.send)(command, what)
            if not isinstance(answer, DomainError) and code.startswith("BOLT"):
                c.bolt_ons.append(answer.id)

        return what, run

    def cancel(self) -> Move | None:
        h, rng = self.h, self.rng
        c = h.someone(lambda c: bool(c.bolt_ons))
        if c is None or c.subscription_id is None:
            return None
        instance = rng.choice(c.bolt_ons)
        twice = rng.random() < 0.3
        command = CancelPackage(c.emp.id, c.subscription_id, instance, "api")
        what = f"{c.label} cancels bolt-on {c.bolt_ons.index(instance) + 1}{' twice' if twice else ''}"
        return what, lambda: (h.send_twice if twice else h.send)(command, what)
