"""Verification for auditors: every stream's hash chain and every read model, checked."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency

from api.auth import auditors
from api.context import ApiContext
from api.problems import problems
from api.schemas import VerificationOut, VerificationProblemOut
from projections.verification import verify


@get("/v1/audit/verify", guards=[auditors], sync_to_thread=True, tags=["audit"], responses=problems())
def verify_ledger(request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]) -> VerificationOut:
    """An auditor key checks its EMP's streams; the admin key checks all of them."""
    principal = request.user
    ctx.progress.wait_for(ctx.services.ledger.recorder.max_notification_id() or 0, ctx.write_wait_timeout)
    report = verify(
        ctx.database_url, key=ctx.chain_key, emp_id=None if principal.is_admin else principal.emp_id
    )
    return VerificationOut(
        ok=report.ok,
        streams_checked=report.streams_checked,
        events_checked=report.events_checked,
        problems=[VerificationProblemOut(p.stream, p.kind, p.detail, p.version) for p in report.problems],
    )


ROUTES = [verify_ledger]
