"""STOW-RS routes (PS3.18 §10.5): store instances sent as multipart/related.

The body is read as a stream and split into parts as it arrives (each part's bytes are
held once); a body over the configured limit is refused with 413 before anything is stored.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from cloudpacs.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from cloudpacs.multipart import MultipartParser, Part, boundary_of
from cloudpacs.services.stow_parts import store_parts
from cloudpacs.services.stow_response import stow_response
from cloudpacs.uids import check_uid
from cloudpacs.web.deps import base_url, services
from cloudpacs.web.responses import dicom_json

router = APIRouter(tags=["STOW-RS"])
DICOM = "application/dicom"
_TYPE_PARAM = re.compile(r';\s*type="?([^";]+)"?', re.IGNORECASE)


def _check_content_type(content_type: str) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "multipart/related":
        raise UnsupportedMediaType(
            f'STOW-RS takes multipart/related; type="{DICOM}", not {media or "no media type"!r}'
        )
    part_type = _TYPE_PARAM.search(content_type)
    if part_type is not None and part_type.group(1).lower() != DICOM:
        raise UnsupportedMediaType(
            f'only multipart/related; type="{DICOM}" is accepted, got {content_type!r}'
        )
    return boundary_of(content_type)


async def read_parts(request: Request, limit: int) -> list[Part]:
    """Split the request body into parts, refusing bodies larger than ``limit`` bytes."""
    boundary = _check_content_type(request.headers.get("content-type", ""))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit}")
    parser = MultipartParser(boundary)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        parser.feed(chunk)
    parts = parser.close()
    if not parts:
        raise BadRequest("the multipart body holds no parts")
    return parts


async def _store(request: Request, study: str | None) -> Response:
    if study is not None:
        check_uid(study, "StudyInstanceUID")
    svc = services(request)
    parts = await read_parts(request, svc.settings.max_request_bytes)
    outcomes = await run_in_threadpool(store_parts, svc.ingest, parts, study)
    status, body = stow_response(outcomes)
    return dicom_json(body, base_url(request), status=status)


@router.post("/studies")
async def store_instances(request: Request) -> Response:
    return await _store(request, None)


@router.post("/studies/{study}")
async def store_study_instances(request: Request, study: str) -> Response:
    return await _store(request, study)
