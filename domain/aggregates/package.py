"""A package in an EMP's catalog: base, bolt-on or top-up, with its payment rule and price."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.money import check_amount
from domain.packages import check_package_definition

PACKAGE_NAMESPACE = uuid5(NAMESPACE_URL, "https://chargeledger.dev/packages")


class Package(Aggregate):
    TOPIC = "chargeledger:Package"

    class Event(Aggregate.Event):
        TOPIC = "chargeledger:Package.Event"
        occurred_at: datetime
        caused_by: str

    class Defined(Aggregate.Created):
        TOPIC = "chargeledger:Package.Defined"
        emp_id: UUID
        code: str
        name: str
        kind: str
        recurring: bool
        payment: str
        price_minor: int
        occurred_at: datetime
        caused_by: str

    @staticmethod
    def create_id(emp_id: UUID, code: str) -> UUID:
        # The code is unique per EMP: defining it twice collides on this id.
        return uuid5(PACKAGE_NAMESPACE, f"{emp_id}:{code}")

    @classmethod
    def define(cls, **fields: Any) -> Package:
        check_package_definition(fields["kind"], fields["recurring"], fields["payment"])
        check_amount(fields["price_minor"], "price_minor", allow_zero=True)
        return cls(**fields)

    @event(Defined)
    def __init__(
        self,
        emp_id: UUID,
        code: str,
        name: str,
        kind: str,
        recurring: bool,
        payment: str,
        price_minor: int,
        occurred_at: datetime,
        caused_by: str,
    ) -> None:
        self.emp_id = emp_id
        self.code = code
        self.name = name
        self.kind = kind
        self.recurring = recurring
        self.payment = payment
        self.price_minor = price_minor

    def same_definition(self, **fields: Any) -> bool:
        return all(
            getattr(self, name) == fields[name]
            for name in ("name", "kind", "recurring", "payment", "price_minor")
        )
