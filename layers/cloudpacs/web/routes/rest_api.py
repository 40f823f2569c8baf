"""The REST API under ``/api/v1``: system status and metrics, and patient, study and series
lists as plain JSON (attributes by keyword), for scripts and dashboards that do not speak
DICOM JSON.

A thin layer over the services QIDO-RS uses: the lists take the QIDO-RS query parameters
(matching keys, ``limit``, ``offset``; PS3.18 §10.6.1.2) with the same validation and the
same 400 answers, and each route performs the action its DICOMweb counterpart performs
(``web.access``), so the permission matrix and the audit trail cover it alike.

A list answers ``{"items": [...], "offset": n, "limit": n | null, "more": bool}``; ``more`` says
further matches exist beyond this page (or beyond the server's cap on one search).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST as PROMETHEUS_TEXT

from cloudpacs import __version__
from cloudpacs.dicom.attributes import Level
from cloudpacs.dicom.plain_json import plain_json
from cloudpacs.services.patients import group_by_patient
from cloudpacs.services.query_model import Query, parse_qido
from cloudpacs.web.deps import STARTED, services
from cloudpacs.web.routes.ops import component_status

router = APIRouter(prefix="/api/v1", tags=["REST API"])
DIMSE_STATUS = "dimse_status"
"""``app.state`` attribute: a callable giving the DIMSE bridge's status where this process
runs one (``cloudpacs serve``); absent elsewhere, where the bridge is a service of its own."""
_COMPONENT_NAMES = {"index": "database", "blobs": "storage"}


def _dimse(request: Request) -> dict[str, Any]:
    probe = getattr(request.app.state, DIMSE_STATUS, None)
    if probe is None:
        return {"status": "external"}
    status: dict[str, Any] = probe()
    return status


@router.get("/system/status")
async def system_status(request: Request) -> JSONResponse:
    svc = services(request)
    probed = await run_in_threadpool(component_status, svc)
    components: dict[str, Any] = {
        _COMPONENT_NAMES[name]: {"status": status} for name, status in probed.items()
    }
    components["dimse"] = _dimse(request)
    ok = all(c["status"] in ("ok", "disabled", "external") for c in components.values())
    started = getattr(request.app.state, STARTED, time.monotonic())
    body = {
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "backend": svc.settings.backend,
        "uptimeSeconds": round(time.monotonic() - started, 3),
        "components": components,
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/system/metrics")
async def system_metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=PROMETHEUS_TEXT)


def _page(query: Query, items: list[dict[str, Any]], more: bool) -> JSONResponse:
    return JSONResponse(
        {"items": items, "offset": query.offset, "limit": query.limit, "more": more}
    )


async def _list(request: Request, level: Level) -> JSONResponse:
    svc = services(request)
    query = parse_qido(list(request.query_params.multi_items()), level)
    # One match past the page tells whether another page exists.
    probe = query if query.limit is None else dataclasses.replace(query, limit=query.limit + 1)
    result = await run_in_threadpool(svc.query.search, probe)
    items = result.items if query.limit is None else result.items[: query.limit]
    more = result.truncated or len(result.items) > len(items)
    return _page(query, [plain_json(item) for item in items], more)


@router.get("/patients")
async def list_patients(request: Request) -> JSONResponse:
    """Patients of the matching studies (``services.patients``), paged after grouping."""
    svc = services(request)
    query = parse_qido(list(request.query_params.multi_items()), Level.STUDY)
    studies = dataclasses.replace(query, limit=None, offset=0)
    result = await run_in_threadpool(svc.query.search, studies)
    patients = group_by_patient(result.items)
    end = None if query.limit is None else query.offset + query.limit
    page = patients[query.offset : end]
    more = result.truncated or (end is not None and end < len(patients))
    return _page(query, [plain_json(patient) for patient in page], more)


@router.get("/studies")
async def list_studies(request: Request) -> JSONResponse:
    return await _list(request, Level.STUDY)


@router.get("/series")
async def list_series(request: Request) -> JSONResponse:
    return await _list(request, Level.SERIES)
