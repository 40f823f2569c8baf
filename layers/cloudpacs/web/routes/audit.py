"""``GET /audit``: recent audit events for admins (``read_audit``), newest first.

Filters: ``actor``, ``action``, ``outcome`` (success | denied | failed), ``study`` (a Study
Instance UID), ``since`` (inclusive) and ``until`` (exclusive) as ISO 8601 times (a time
without offset is UTC), ``limit`` (1-1000, default 100). Served where the audit trail can be
read in-process (the local JSON-lines file); in AWS the trail is read with CloudWatch Logs
Insights (docs/audit.md) and this route answers 501.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cloudpacs.errors import BadRequest, CloudPacsError
from cloudpacs.security.audit import AuditFilter, Outcome
from cloudpacs.uids import check_uid
from cloudpacs.web.deps import services

router = APIRouter(tags=["Audit"])


class AuditNotReadable(CloudPacsError):
    status = 501


@router.get("/audit")
async def read_audit(
    request: Request,
    actor: str | None = None,
    action: str | None = None,
    outcome: Outcome | None = None,
    study: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    reader = services(request).audit_reader
    if reader is None:
        raise AuditNotReadable(
            "this deployment's audit trail is read with CloudWatch Logs Insights (docs/audit.md)"
        )
    if study is not None:
        check_uid(study, "study")
    filters = AuditFilter(
        actor=actor,
        action=action,
        outcome=outcome,
        study_uid=study,
        since=_moment(since, "since"),
        until=_moment(until, "until"),
    )
    events = await run_in_threadpool(reader.read, filters, limit)
    return JSONResponse({"count": len(events), "events": [e.to_dict() for e in events]})


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} is not an ISO 8601 time: {text[:40]!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
