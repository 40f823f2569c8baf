"""WADO-RS routes (PS3.18 §10.4): instances, metadata, frames and bulk data.

Instances are streamed as stored (``transfer-syntax=*`` or no transfer-syntax parameter)
or re-encoded in the transfer syntax a client names, when ``cloudpacs.dicom.transcode`` can
produce it from every instance asked for; anything else is 406, naming what can be produced.
Frames are sent as stored, decoded (``application/octet-stream``) or encoded in the syntax
named (or implied by the part's image media type, PS3.18 Table 8.7.3-3). Where responses
have a size limit (Lambda), instances over it are answered with a 303 redirect to a presigned URL
(``services.large_responses``, docs/decisions/0001-large-wado-responses.md).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute

from cloudpacs.dicom import transcode
from cloudpacs.errors import NotAcceptable
from cloudpacs.model import InstanceRecord
from cloudpacs.multipart import CRLF, closing, part_header
from cloudpacs.services.large_responses import LargeResponses
from cloudpacs.services.retrieve import Frame, RetrieveService, parse_frame_list
from cloudpacs.web import conditional
from cloudpacs.web.accept import Acceptable, choose
from cloudpacs.web.deps import base_url, services
from cloudpacs.web.frame_plan import FramePlan, frame_plan
from cloudpacs.web.responses import Chunk, dicom_json, multipart_response, streamed_multipart
from cloudpacs.web.routes import rendered

router = APIRouter(tags=["WADO-RS"])
DICOM = "application/dicom"
OCTET = "application/octet-stream"
WHOLE_READ_BYTES = 16 << 20
"""Instances up to this size are read in one go; larger ones stream in chunks."""
CHUNK_BYTES = 4 << 20
BATCH_BYTES = 8 << 20
"""Small instances are sent in batches of about this many bytes (fewer thread hops)."""


@dataclass(frozen=True)
class InstancePlan:
    multipart: bool
    transfer_syntax: str | None
    """None: as stored."""


def _target_syntax(records: list[InstanceRecord], wanted: str | None) -> str | bool | None:
    """None for as-stored, a UID to convert to, or False when not every instance can be."""
    if wanted in (None, "*"):
        return None
    if all(r.transfer_syntax_uid == wanted for r in records):
        return None
    if all(wanted in transcode.producible(r.transfer_syntax_uid) for r in records):
        return wanted
    return False


def _plan(accept: str | None, records: list[InstanceRecord], single_allowed: bool) -> InstancePlan:
    def offer(a: Acceptable) -> InstancePlan | None:
        if a.media_type == "*/*":
            return InstancePlan(True, None)
        multipart = a.multipart and a.part_matches(DICOM)
        single = single_allowed and a.media_type == DICOM
        if not (multipart or single):
            return None
        target = _target_syntax(records, a.transfer_syntax)
        if target is False:
            return None
        return InstancePlan(multipart, target if isinstance(target, str) else None)

    try:
        return choose(accept, offer, "this resource")
    except NotAcceptable as exc:
        offered = sorted(set.intersection(*(set(_offered(r)) for r in records)))
        names = ", ".join(offered)
        raise NotAcceptable(f"{exc.reason}; available transfer syntaxes: {names}") from None


def _offered(rec: InstanceRecord) -> list[str]:
    return transcode.producible(rec.transfer_syntax_uid)


def _pieces(
    retrieve: RetrieveService, batch: list[InstanceRecord], target: str | None, boundary: str
) -> list[Chunk]:
    """The framed parts of ``batch``: each object's bytes as read (not copied again), with
    the small framing between two objects joined into one piece."""
    pieces: list[Chunk] = []
    framing = b""
    for rec in batch:
        ts = target or rec.transfer_syntax_uid
        pieces.append(framing + part_header(f"{DICOM}; transfer-syntax={ts}", boundary))
        pieces.append(retrieve.sendable(rec) if target is None else retrieve.converted(rec, ts))
        framing = CRLF
    if framing:
        pieces.append(framing)
    return pieces


def _steps(records: list[InstanceRecord]) -> Iterator[list[InstanceRecord] | InstanceRecord]:
    """``records`` as the stream reads them: batches of small instances of about
    ``BATCH_BYTES``, and each large instance on its own."""
    pending: list[InstanceRecord] = []
    pending_bytes = 0
    for rec in records:
        if rec.size > WHOLE_READ_BYTES:
            if pending:
                yield pending
                pending, pending_bytes = [], 0
            yield rec
            continue
        pending.append(rec)
        pending_bytes += rec.size
        if pending_bytes >= BATCH_BYTES:
            yield pending
            pending, pending_bytes = [], 0
    if pending:
        yield pending


async def _instance_stream(
    retrieve: RetrieveService, records: list[InstanceRecord], target: str | None, boundary: str
) -> AsyncIterator[Chunk]:
    """The multipart body: small instances are read in batches per worker-thread hop, the
    next batch read while this one is sent; large ones stream in chunks."""

    def read(batch: list[InstanceRecord]) -> asyncio.Future[list[Chunk]]:
        return asyncio.ensure_future(run_in_threadpool(_pieces, retrieve, batch, target, boundary))

    steps = list(_steps(records))
    ahead: asyncio.Future[list[Chunk]] | None = None
    try:
        for i, step in enumerate(steps):
            if isinstance(step, list):
                pieces = await (ahead or read(step))
                following = steps[i + 1] if i + 1 < len(steps) else None
                ahead = read(following) if isinstance(following, list) else None
                for piece in pieces:
                    yield piece
                continue
            async for piece in _large_part(retrieve, step, target, boundary):
                yield piece
    finally:
        if ahead is not None and not ahead.cancel() and not ahead.cancelled():
            ahead.exception()  # a read ahead that failed after the client left: not unhandled
    yield closing(boundary)


async def _large_part(
    retrieve: RetrieveService, rec: InstanceRecord, target: str | None, boundary: str
) -> AsyncIterator[bytes]:
    ts = target or rec.transfer_syntax_uid
    # The object is read before its part begins, so a missing one fails the answer
    # while nothing of it is sent yet (``_primed``).
    if target is not None:
        converted = await run_in_threadpool(retrieve.converted, rec, ts)
        yield part_header(f"{DICOM}; transfer-syntax={ts}", boundary)
        yield converted
    else:
        chunks = iterate_in_threadpool(retrieve.chunks(rec, CHUNK_BYTES))
        first = await anext(chunks, b"")
        yield part_header(f"{DICOM}; transfer-syntax={ts}", boundary)
        yield first
        async for chunk in chunks:
            yield chunk
    yield CRLF


async def _primed(body: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    """``body`` with its first piece already read: the first object's read happens before the
    response starts, so an object deleted since the index read is a 404, not a cut answer."""
    first = await anext(body)

    async def replay() -> AsyncIterator[Chunk]:
        yield first
        async for piece in body:
            yield piece

    return replay()


def _stream_length(records: list[InstanceRecord], boundary: str) -> int:
    """Bytes of the as-stored multipart body: known up front, so the answer has a
    ``Content-Length`` (no chunked framing to add on the way out, nor to strip on the way in)."""
    framing = sum(
        len(part_header(f"{DICOM}; transfer-syntax={r.transfer_syntax_uid}", boundary))
        for r in records
    )
    return (
        framing + sum(r.size for r in records) + len(CRLF) * len(records) + len(closing(boundary))
    )


async def _retrieve(
    request: Request, study: str, series: str | None = None, sop: str | None = None
) -> Response:
    svc = services(request)
    retrieve = svc.retrieve
    records = await run_in_threadpool(retrieve.instances, study, series, sop)
    plan = _plan(request.headers.get("accept"), records, single_allowed=sop is not None)
    validators = conditional.of_records(
        records, ("instances", plan.multipart, plan.transfer_syntax), conditional.REVALIDATE
    )
    if (cached := conditional.not_modified(request, validators)) is not None:
        return cached
    if plan.transfer_syntax is not None:
        await run_in_threadpool(retrieve.check_convertible, records, plan.transfer_syntax)
    large = svc.large_responses
    if large is not None and large.too_large(records):
        return await _redirect(large, records, plan)
    if not plan.multipart:
        rec = records[0]
        if plan.transfer_syntax is None:
            chunks = retrieve.chunks(rec, CHUNK_BYTES)
            first = await run_in_threadpool(next, chunks, b"")  # a missing object: 404 here
            single: Response = StreamingResponse(
                itertools.chain((first,), chunks),
                media_type=f"{DICOM}; transfer-syntax={rec.transfer_syntax_uid}",
                headers={"Content-Length": str(rec.size)},
            )
        else:
            data = await run_in_threadpool(retrieve.converted, rec, plan.transfer_syntax)
            single = Response(data, media_type=f"{DICOM}; transfer-syntax={plan.transfer_syntax}")
        return validators.applied(single)
    boundary = validators.boundary
    body = await _primed(_instance_stream(retrieve, records, plan.transfer_syntax, boundary))
    response = streamed_multipart(DICOM, body, boundary)
    if plan.transfer_syntax is None:
        response.headers["Content-Length"] = str(_stream_length(records, boundary))
    return validators.applied(response)


async def _redirect(
    large: LargeResponses, records: list[InstanceRecord], plan: InstancePlan
) -> Response:
    """303 to a presigned URL of the body (decision 0001): too large to answer inline."""
    if plan.multipart:
        url = await run_in_threadpool(large.multipart_url, records, plan.transfer_syntax)
    elif plan.transfer_syntax is None:
        url = await run_in_threadpool(large.instance_url, records[0])
    else:
        raise NotAcceptable(
            "this instance is too large to re-encode into a single-part response; "
            'ask for multipart/related; type="application/dicom"'
        )
    return RedirectResponse(url, status_code=303)


@router.get("/studies/{study}")
async def retrieve_study(request: Request, study: str) -> Response:
    return await _retrieve(request, study)


@router.get("/studies/{study}/series/{series}")
async def retrieve_series(request: Request, study: str, series: str) -> Response:
    return await _retrieve(request, study, series)


@router.get("/studies/{study}/series/{series}/instances/{sop}")
async def retrieve_instance(request: Request, study: str, series: str, sop: str) -> Response:
    return await _retrieve(request, study, series, sop)


# -- metadata ----------------------------------------------------------------------------
def _check_json_accept(request: Request) -> None:
    accept = request.headers.get("accept", "")
    if accept and not any(
        t in accept for t in ("application/dicom+json", "application/json", "*/*")
    ):
        raise NotAcceptable(f"metadata is offered as application/dicom+json, not {accept!r}")


async def _metadata(
    request: Request, study: str, series: str | None = None, sop: str | None = None
) -> Response:
    _check_json_accept(request)
    retrieve = services(request).retrieve
    scope = await run_in_threadpool(retrieve.metadata_scope, study, series, sop)
    base = base_url(request)
    validators = conditional.of_records(scope.records, ("metadata", base), conditional.REVALIDATE)
    if (cached := conditional.not_modified(request, validators)) is not None:
        return cached
    body = await run_in_threadpool(retrieve.metadata_of, scope)
    return validators.applied(dicom_json(body, base))


@router.get("/studies/{study}/metadata")
async def study_metadata(request: Request, study: str) -> Response:
    return await _metadata(request, study)


@router.get("/studies/{study}/series/{series}/metadata")
async def series_metadata(request: Request, study: str, series: str) -> Response:
    return await _metadata(request, study, series)


@router.get("/studies/{study}/series/{series}/instances/{sop}/metadata")
async def instance_metadata(request: Request, study: str, series: str, sop: str) -> Response:
    return await _metadata(request, study, series, sop)


# -- frames ------------------------------------------------------------------------------
def _frame_parts(frames: list[Frame], plan: FramePlan) -> Iterator[tuple[str, Iterator[bytes]]]:
    for frame in frames:
        media = plan.part_type or transcode.frame_media_type(frame.transfer_syntax)
        yield f"{media}; transfer-syntax={frame.transfer_syntax}", iter([frame.data])


@router.get("/studies/{study}/series/{series}/instances/{sop}/frames/{frame_list}")
async def retrieve_frames(
    request: Request, study: str, series: str, sop: str, frame_list: str
) -> Response:
    retrieve = services(request).retrieve
    numbers = parse_frame_list(frame_list)
    rec = (await run_in_threadpool(retrieve.instances, study, series, sop))[0]
    plan = frame_plan(request.headers.get("accept"), rec)
    validators = conditional.of_records(
        [rec], ("frames", numbers, plan.decode, plan.encode, plan.part_type), conditional.PIXELS
    )
    if (cached := conditional.not_modified(request, validators)) is not None:
        await run_in_threadpool(retrieve.check_frames, rec, numbers)
        return cached
    frames = await run_in_threadpool(
        retrieve.frames, rec, numbers, decode=plan.decode, encode=plan.encode
    )
    part_type = plan.part_type or transcode.frame_media_type(frames[0].transfer_syntax)
    response = multipart_response(
        part_type, _frame_parts(frames, plan), transfer_syntax=None, boundary=validators.boundary
    )
    return validators.applied(response)


# -- bulk data ---------------------------------------------------------------------------
@router.get("/studies/{study}/series/{series}/instances/{sop}/bulkdata/{tag_path:path}")
async def retrieve_bulkdata(
    request: Request, study: str, series: str, sop: str, tag_path: str
) -> Response:
    def offer(a: Acceptable) -> bool | None:
        return True if a.media_type == "*/*" or a.part_matches(OCTET) else None

    choose(request.headers.get("accept"), offer, "bulk data")
    retrieve = services(request).retrieve
    rec = (await run_in_threadpool(retrieve.instances, study, series, sop))[0]
    validators = conditional.of_records([rec], ("bulkdata", tag_path), conditional.PIXELS)
    if (cached := conditional.not_modified(request, validators)) is not None:
        return cached
    value = await run_in_threadpool(retrieve.bulkdata, rec, tag_path)
    response = multipart_response(
        OCTET, [(OCTET, iter([value]))], transfer_syntax=None, boundary=validators.boundary
    )
    return validators.applied(response)


# -- rendered and thumbnail resources (PS3.18 §9.5): part of WADO-RS ----------------------
for _route in rendered.router.routes:
    assert isinstance(_route, APIRoute)
    router.add_api_route(
        _route.path,
        _route.endpoint,
        methods=sorted(_route.methods or ()),
        name=_route.name,
        tags=list(_route.tags),
    )
