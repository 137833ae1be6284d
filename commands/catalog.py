"""The EMP's package catalog."""

from __future__ import annotations

from commands.application import position_of
from commands.messages import DefinePackage
from commands.unit_of_work import Outcome, Services, retrying
from domain.aggregates import Package
from domain.errors import Duplicate


def define_package(cmd: DefinePackage, services: Services) -> Outcome:
    ledger = services.ledger
    ledger.get_emp(cmd.emp_id)
    fields = {
        "name": cmd.name,
        "kind": cmd.kind,
        "recurring": cmd.recurring,
        "payment": cmd.payment,
        "price_minor": cmd.price_minor,
    }

    def attempt() -> Outcome:
        existing = ledger.find_package(cmd.emp_id, cmd.code)
        if existing is not None:
            if not existing.same_definition(**fields):
                raise Duplicate(f"package code {cmd.code!r} is already defined", field="code")
            return Outcome(existing.id, None, created=False)
        package = Package.define(
            emp_id=cmd.emp_id,
            code=cmd.code,
            occurred_at=services.now_for(cmd.emp_id),
            caused_by=cmd.actor,
            **fields,
        )
        return Outcome(package.id, position_of(ledger.save(package)))

    return retrying(attempt)
