"""STOW-RS routes (PS3.18 §10.5): store instances sent as multipart/related, or one instance
sent as a single-part ``application/dicom`` body (as the large cloud DICOMweb services take).

The body is read as a stream and split into parts as it arrives (each part's bytes are
held once); a body over the configured limit is refused with 413 before anything is stored.
A single-part body answers exactly as a multipart body holding that one part.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from concurrent.futures import Future

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from cloudpacs.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from cloudpacs.multipart import MultipartParser, Part, boundary_of
from cloudpacs.services.ingest import CANNOT_UNDERSTAND, IngestService, StoreOutcome, StoreStatus
from cloudpacs.services.stow_parts import refused_part, store_parts
from cloudpacs.services.stow_response import stow_response
from cloudpacs.uids import check_uid
from cloudpacs.web.deps import base_url, services
from cloudpacs.web.responses import dicom_json

router = APIRouter(tags=["STOW-RS"])
DICOM = "application/dicom"
_TYPE_PARAM = re.compile(r';\s*type="?([^";]+)"?', re.IGNORECASE)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _check_content_type(content_type: str) -> str:
    media = _media_type(content_type)
    if media != "multipart/related":
        raise UnsupportedMediaType(
            f'STOW-RS takes multipart/related; type="{DICOM}" or {DICOM},'
            f" not {media or 'no media type'!r}"
        )
    part_type = _TYPE_PARAM.search(content_type)
    if part_type is not None and part_type.group(1).lower() != DICOM:
        raise UnsupportedMediaType(
            f'only multipart/related; type="{DICOM}" is accepted, got {content_type!r}'
        )
    return boundary_of(content_type)


def _declared_length(request: Request, limit: int) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        return None
    if int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit}")
    return int(declared)


async def _limited_chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks, refusing a body larger than ``limit`` bytes (declared or streamed)."""
    _declared_length(request, limit)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        yield chunk


async def read_single_part(request: Request, limit: int) -> Part:
    """A single-part ``application/dicom`` body as the one part of a STOW request."""
    body = b"".join([chunk async for chunk in _limited_chunks(request, limit)])
    if not body:
        raise BadRequest(f"the {DICOM} body is empty")
    return Part({"content-type": DICOM}, body)


async def read_parts(request: Request, limit: int) -> list[Part]:
    """Split the request body into parts, refusing bodies larger than ``limit`` bytes."""
    parser = MultipartParser(_check_content_type(request.headers.get("content-type", "")))
    async for chunk in _limited_chunks(request, limit):
        parser.feed(chunk)
    parts = parser.close()
    if not parts:
        raise BadRequest("the multipart body holds no parts")
    return parts


async def store_while_receiving(
    request: Request, ingest: IngestService, study: str | None
) -> list[StoreOutcome]:
    """Store each part as soon as it has arrived, while the rest of the body streams in.

    Only for bodies whose length was declared and is within the limit, so no part is stored
    of a request that is then refused as too large. A body that breaks off keeps what
    arrived whole and reports the rest as one failure.
    """
    parser = MultipartParser(_check_content_type(request.headers.get("content-type", "")))
    pending: list[StoreOutcome | Future[StoreOutcome]] = []

    def submit_new_parts() -> None:
        while len(pending) < len(parser.parts):
            part = parser.parts[len(pending)]
            refused = refused_part(part)
            pending.append(refused or ingest.submit(part.body, expected_study=study))
            parser.parts[len(pending) - 1] = Part(part.headers, b"")  # held by the worker now

    try:
        async for chunk in request.stream():
            parser.feed(chunk)
            submit_new_parts()
        parser.close()
    except BadRequest as exc:
        if not pending:
            raise
        pending.append(
            StoreOutcome(StoreStatus.FAILED, failure_reason=CANNOT_UNDERSTAND, message=exc.reason)
        )
    if not pending:
        raise BadRequest("the multipart body holds no parts")
    return [
        item if isinstance(item, StoreOutcome) else await asyncio.wrap_future(item)
        for item in pending
    ]


async def _store(request: Request, study: str | None) -> Response:
    if study is not None:
        check_uid(study, "StudyInstanceUID")
    svc = services(request)
    limit = svc.settings.max_request_bytes
    content_type = request.headers.get("content-type", "")
    if _media_type(content_type) == DICOM:
        part = await read_single_part(request, limit)
        outcomes = await run_in_threadpool(store_parts, svc.ingest, [part], study)
    else:
        _check_content_type(content_type)
        if _declared_length(request, limit) is not None:
            outcomes = await store_while_receiving(request, svc.ingest, study)
        else:  # chunked: the whole body must be seen to be within the limit before storing
            parts = await read_parts(request, limit)
            outcomes = await run_in_threadpool(store_parts, svc.ingest, parts, study)
    status, body = stow_response(outcomes)
    return dicom_json(body, base_url(request), status=status)


@router.post("/studies")
async def store_instances(request: Request) -> Response:
    return await _store(request, None)


@router.post("/studies/{study}")
async def store_study_instances(request: Request, study: str) -> Response:
    return await _store(request, study)
