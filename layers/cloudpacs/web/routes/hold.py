"""Legal hold of a study over HTTP (docs/lifecycle.md).

- ``PUT {base}/studies/{study}/hold`` with ``{"reason": "..."}``: places the hold (201), or
  replaces the reason of a hold in place (200, ``since`` kept); action ``hold`` (admin).
- ``DELETE {base}/studies/{study}/hold``: releases it (200, the released hold); 404 when the
  study is not held; action ``release_hold`` (admin).
- ``GET {base}/studies/{study}/hold``: ``{"hold": true, "reason", "since", "by"}`` or
  ``{"hold": false}``; action ``retrieve``.

An unknown study is 404 on all three. The audit event of each names who did it and the
study; the reason text stays out of the audit trail.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from cloudpacs.model import LegalHold
from cloudpacs.security.audit import ANONYMOUS
from cloudpacs.web.deps import services

router = APIRouter(tags=["Legal hold"])


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str


def hold_json(hold: LegalHold | None) -> dict[str, Any]:
    if hold is None:
        return {"hold": False}
    return {"hold": True, "reason": hold.reason, "since": hold.since, "by": hold.by}


@router.put("/studies/{study}/hold")
async def place_hold(request: Request, study: str, body: HoldRequest) -> JSONResponse:
    username = getattr(getattr(request.state, "identity", None), "username", None)
    hold, created = await run_in_threadpool(
        services(request).holds.place,
        study,
        body.reason,
        by=username if isinstance(username, str) else ANONYMOUS,
    )
    return JSONResponse(hold_json(hold), status_code=201 if created else 200)


@router.delete("/studies/{study}/hold")
async def release_hold(request: Request, study: str) -> JSONResponse:
    released = await run_in_threadpool(services(request).holds.release, study)
    return JSONResponse({**hold_json(None), "released": hold_json(released)})


@router.get("/studies/{study}/hold")
async def study_hold(request: Request, study: str) -> JSONResponse:
    hold = await run_in_threadpool(services(request).holds.get, study)
    return JSONResponse(hold_json(hold))
