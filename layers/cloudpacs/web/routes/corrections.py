"""Corrections over HTTP (docs/corrections.md): the ``update`` action, admins only.

- ``PATCH {base}/studies/{study}`` with a DICOM JSON object of the attributes to change
  (``cloudpacs.dicom.corrections.CORRECTABLE``) and ``If-Match`` naming the study's current
  version (an ETag of its metadata, its instances or a search of it: ``web.conditional``) or
  ``If-Unmodified-Since``. Without either: 428; stale: 412; a study being corrected: 409.
- ``POST {base}/patients/{patient}/merge`` with the target patient's attributes (PatientID
  required, patient-level attributes only): every study of patient ``patient`` is corrected
  to them, one study after the other.

Both answer 200 with the number of instances rewritten and the values they held before;
the audit event keeps those previous values too.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cloudpacs.dicom.corrections import Change, parse_changes
from cloudpacs.errors import BadRequest, NotFound, UnsupportedMediaType
from cloudpacs.model import InstanceRecord
from cloudpacs.services.corrections import CorrectionService
from cloudpacs.web import conditional
from cloudpacs.web.deps import services
from cloudpacs.web.transaction import CURRENT

router = APIRouter(tags=["Corrections"])
JSON_TYPES = ("application/dicom+json", "application/json")
MAX_BODY_BYTES = 64 << 10
"""A correction names a few attributes; anything larger is not one."""
"""PatientID is LO: at most 64 characters."""


def _corrections(request: Request) -> CorrectionService:
    corrections = services(request).corrections
    if corrections is None:
        raise NotFound("corrections are not offered here")
    return corrections


async def _changes(request: Request) -> list[Change]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"a correction is application/dicom+json, not {media or 'an untyped body'!r}"
        )
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"a correction body is at most {MAX_BODY_BYTES} bytes")
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    return parse_changes(parsed)


def _audited(records: list[InstanceRecord], previous: dict[str, str]) -> None:
    transaction = CURRENT.get()
    if transaction is not None:
        transaction.previous = previous
        for rec in records:
            transaction.note(rec)


def _precondition(request: Request, *, required: bool) -> Any:
    def check(records: list[InstanceRecord]) -> None:
        conditional.check_current(
            request,
            conditional.content_version(records),
            conditional.last_modified(records),
            required=required,
        )

    return check


@router.patch("/studies/{study}")
async def update_study(request: Request, study: str) -> JSONResponse:
    changes = await _changes(request)
    corrections = _corrections(request)
    result = await run_in_threadpool(
        corrections.update_study,
        study,
        changes,
        precondition=_precondition(request, required=True),
    )
    _audited(result.records, result.previous)
    version = conditional.content_version(result.records)
    return JSONResponse(
        {"updatedInstances": result.instances, "previous": result.previous},
        headers={"ETag": f'"{version}"'},
    )


@router.post("/patients/{patient}/merge")
async def merge_patient(request: Request, patient: str) -> JSONResponse:
    changes = await _changes(request)
    corrections = _corrections(request)
    check = _precondition(request, required=False)
    results = await run_in_threadpool(
        corrections.merge_patient, patient, changes, precondition=check
    )
    records = [rec for result in results for rec in result.records]
    _audited(records, results[0].previous)
    return JSONResponse(
        {
            "mergedStudies": [r.study_uid for r in results],
            "updatedInstances": len(records),
            "previous": results[0].previous,
        }
    )
