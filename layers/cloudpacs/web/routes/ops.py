"""Operational endpoints: ``/health`` (status, version, components) and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST as PROMETHEUS_TEXT

from cloudpacs import __version__
from cloudpacs.runtime import Services
from cloudpacs.web.deps import services

router = APIRouter(tags=["Operations"])
_PROBE_UID = "2.25.0"


def component_status(svc: Services) -> dict[str, str]:
    """ "ok" or the error class of the index and of the object store, from one probe each."""
    status = {}
    try:
        svc.index.get_study(_PROBE_UID)
        status["index"] = "ok"
    except Exception as exc:
        status["index"] = f"error: {exc.__class__.__name__}"
    try:
        svc.blobs.head(f"studies/{_PROBE_UID}/probe")
        status["blobs"] = "ok"
    except Exception as exc:
        status["blobs"] = f"error: {exc.__class__.__name__}"
    return status


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    svc = services(request)
    components = await run_in_threadpool(component_status, svc)
    ok = all(v == "ok" for v in components.values())
    body = {
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "commit": svc.settings.commit,
        "backend": svc.settings.backend,
        "components": components,
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=PROMETHEUS_TEXT)
