"""DELETE of a study, a series or an instance, objects and index entries both.

A study on legal hold is refused with 409 and a JSON reason at every level; its audit event
carries the reason code ``legal_hold``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cloudpacs.services.legal_hold import StudyOnHold
from cloudpacs.web import conditional
from cloudpacs.web.deps import services
from cloudpacs.web.transaction import CURRENT

router = APIRouter(tags=["Delete"])
LEGAL_HOLD = "legal_hold"


async def _delete(
    request: Request, study: str, series: str | None = None, sop: str | None = None
) -> JSONResponse:
    svc = services(request)
    if conditional.has_preconditions(request):
        records = await run_in_threadpool(svc.retrieve.instances, study, series, sop)
        conditional.check_current(
            request, conditional.content_version(records), conditional.last_modified(records)
        )
    try:
        removed = await run_in_threadpool(svc.delete.delete, study, series, sop)
    except StudyOnHold:
        transaction = CURRENT.get()
        if transaction is not None:
            transaction.reason = LEGAL_HOLD
        raise
    return JSONResponse({"deleted_instances": len(removed)})


@router.delete("/studies/{study}")
async def delete_study(request: Request, study: str) -> JSONResponse:
    return await _delete(request, study)


@router.delete("/studies/{study}/series/{series}")
async def delete_series(request: Request, study: str, series: str) -> JSONResponse:
    return await _delete(request, study, series)


@router.delete("/studies/{study}/series/{series}/instances/{sop}")
async def delete_instance(request: Request, study: str, series: str, sop: str) -> JSONResponse:
    return await _delete(request, study, series, sop)
