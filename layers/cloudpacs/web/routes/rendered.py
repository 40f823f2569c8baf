"""WADO-RS rendered and thumbnail resources (PS3.18 §9.5, §8.3.5, §8.7.4).

Included in the WADO-RS router, so every runtime that serves WADO-RS (the local server, the
``wado`` Lambda function, the research root) serves these too.

Media types: ``image/jpeg`` (the default), ``image/png``, ``image/gif``; several frames go
out as one animated ``image/gif`` or as ``multipart/related`` with one image per part (the
only form for a study or series). A client that accepts only a single-frame type (JPEG,
PNG) for a multi-frame instance gets its first frame, as viewers asking for a thumbnail-like
image of an instance expect. The ``accept`` query parameter, when given, stands in for
the ``Accept`` header (PS3.18 §8.3.3.1). Thumbnails are single images.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from cloudpacs.dicom import image_output
from cloudpacs.dicom.image_output import GIF, JPEG, MEDIA_TYPES
from cloudpacs.dicom.render_params import RenderParams, parse_params
from cloudpacs.errors import BadRequest
from cloudpacs.model import InstanceRecord
from cloudpacs.services.rendered import RenderService
from cloudpacs.services.retrieve import parse_frame_list
from cloudpacs.services.thumbnails import ThumbnailService
from cloudpacs.web import conditional
from cloudpacs.web.accept import Acceptable, choose
from cloudpacs.web.deps import services
from cloudpacs.web.responses import multipart_response

router = APIRouter(tags=["WADO-RS rendered"])


@dataclass(frozen=True)
class MediaPlan:
    media_type: str
    multipart: bool
    first_only: bool = False
    """Several frames asked for in a single-frame type: the first one is sent."""


def _accept(request: Request) -> str | None:
    return request.query_params.get("accept") or request.headers.get("accept")


def _media(accept: str | None, *, several: bool, single_allowed: bool = True) -> MediaPlan:
    """The rendered media type for ``accept``: several images are a GIF or multipart."""

    def offer(a: Acceptable) -> MediaPlan | None:
        if a.media_type == "*/*":
            return MediaPlan(JPEG, several or not single_allowed)
        if a.multipart:
            part = next((m for m in MEDIA_TYPES if a.part_matches(m)), None)
            return MediaPlan(part, True) if part is not None else None
        if not single_allowed:
            return None
        if a.media_type == "image/*":
            return MediaPlan(GIF if several else JPEG, False)
        if a.media_type in MEDIA_TYPES:
            return MediaPlan(a.media_type, False, several and a.media_type != GIF)
        return None

    what = "several frames (image/gif or multipart/related)" if several else "a rendered image"
    return choose(accept, offer, what)


def _renderer(request: Request) -> RenderService:
    return RenderService(services(request).retrieve)


def _params(request: Request, *, thumbnail: bool = False) -> RenderParams:
    return parse_params(request.query_params, thumbnail=thumbnail)


def _validators(
    records: list[InstanceRecord], numbers: list[int] | None, plan: MediaPlan, params: RenderParams
) -> conditional.Validators:
    return conditional.of_records(records, ("rendered", numbers, plan, params), conditional.PIXELS)


async def _rendered_instance(
    request: Request, study: str, series: str, sop: str, numbers: list[int] | None
) -> Response:
    params = _params(request)
    renderer = _renderer(request)
    rec = (await run_in_threadpool(renderer.image_instances, study, series, sop))[0]
    count = len(numbers) if numbers else (rec.frames.count if rec.frames is not None else 1)
    plan = _media(_accept(request), several=count > 1)
    if plan.first_only:
        numbers = (numbers or [1])[:1]
    validators = _validators([rec], numbers, plan, params)
    if (cached := conditional.not_modified(request, validators)) is not None:
        if numbers:
            await run_in_threadpool(renderer.retrieve.check_frames, rec, numbers)
        return cached
    _, images = await run_in_threadpool(renderer.frames, rec, numbers, params)
    if plan.multipart:
        encoded = await run_in_threadpool(_encode_each, images, plan.media_type, params)
        parts = [(plan.media_type, iter([data])) for data in encoded]
        response = multipart_response(
            plan.media_type, parts, transfer_syntax=None, boundary=validators.boundary
        )
        return validators.applied(response)
    data = await run_in_threadpool(image_output.encode, images, plan.media_type, params.quality)
    return validators.applied(Response(data, media_type=plan.media_type))


def _encode_each(images: list[Any], media_type: str, params: RenderParams) -> list[bytes]:
    return [image_output.encode([image], media_type, params.quality) for image in images]


def _parts(
    renderer: RenderService, records: list[InstanceRecord], plan: MediaPlan, params: RenderParams
) -> Iterator[tuple[str, Iterator[bytes]]]:
    for rec in records:
        _, images = renderer.frames(rec, None, params)
        if plan.media_type == GIF:
            yield plan.media_type, iter([image_output.encode(images, GIF)])
            continue
        for data in _encode_each(images, plan.media_type, params):
            yield plan.media_type, iter([data])


async def _rendered_many(request: Request, study: str, series: str | None = None) -> Response:
    params = _params(request)
    renderer = _renderer(request)
    plan = _media(_accept(request), several=True, single_allowed=False)
    records = await run_in_threadpool(renderer.image_instances, study, series)
    validators = _validators(records, None, plan, params)
    if (cached := conditional.not_modified(request, validators)) is not None:
        return cached
    parts = _parts(renderer, records, plan, params)
    first = await run_in_threadpool(next, parts)  # a failure is answered before streaming

    def body() -> Iterator[tuple[str, Iterator[bytes]]]:
        yield first
        yield from parts

    response = multipart_response(
        plan.media_type, body(), transfer_syntax=None, boundary=validators.boundary
    )
    return validators.applied(response)


@router.get("/studies/{study}/rendered")
async def rendered_study(request: Request, study: str) -> Response:
    return await _rendered_many(request, study)


@router.get("/studies/{study}/series/{series}/rendered")
async def rendered_series(request: Request, study: str, series: str) -> Response:
    return await _rendered_many(request, study, series)


@router.get("/studies/{study}/series/{series}/instances/{sop}/rendered")
async def rendered_instance(request: Request, study: str, series: str, sop: str) -> Response:
    return await _rendered_instance(request, study, series, sop, None)


@router.get("/studies/{study}/series/{series}/instances/{sop}/frames/{frame_list}/rendered")
async def rendered_frames(
    request: Request, study: str, series: str, sop: str, frame_list: str
) -> Response:
    return await _rendered_instance(request, study, series, sop, parse_frame_list(frame_list))


# -- thumbnails --------------------------------------------------------------------------
def _thumbnails(request: Request) -> ThumbnailService:
    svc = services(request)
    return ThumbnailService(RenderService(svc.retrieve), svc.index, svc.blobs)


def _thumbnail_media(request: Request) -> tuple[RenderParams, str]:
    return _params(request, thumbnail=True), _media(_accept(request), several=False).media_type


def _thumbnail_answer(request: Request, data: bytes, media: str) -> Response:
    """A thumbnail is chosen and cached by the service: its validators are its bytes'."""
    validators = conditional.of_body(data, conditional.PIXELS)
    cached = conditional.not_modified(request, validators)
    return cached or validators.applied(Response(data, media_type=media))


@router.get("/studies/{study}/thumbnail")
async def thumbnail_study(request: Request, study: str) -> Response:
    params, media = _thumbnail_media(request)
    data = await run_in_threadpool(_thumbnails(request).study, study, params, media)
    return _thumbnail_answer(request, data, media)


@router.get("/studies/{study}/series/{series}/thumbnail")
async def thumbnail_series(request: Request, study: str, series: str) -> Response:
    params, media = _thumbnail_media(request)
    data = await run_in_threadpool(_thumbnails(request).series, study, series, params, media)
    return _thumbnail_answer(request, data, media)


@router.get("/studies/{study}/series/{series}/instances/{sop}/thumbnail")
async def thumbnail_instance(request: Request, study: str, series: str, sop: str) -> Response:
    params, media = _thumbnail_media(request)
    thumbnails = _thumbnails(request)
    data = await run_in_threadpool(thumbnails.instance, study, series, sop, None, params, media)
    return _thumbnail_answer(request, data, media)


@router.get("/studies/{study}/series/{series}/instances/{sop}/frames/{frame_list}/thumbnail")
async def thumbnail_frame(
    request: Request, study: str, series: str, sop: str, frame_list: str
) -> Response:
    numbers = parse_frame_list(frame_list)
    if len(numbers) != 1:
        raise BadRequest("a thumbnail is of one frame")
    params, media = _thumbnail_media(request)
    thumbnails = _thumbnails(request)
    data = await run_in_threadpool(
        thumbnails.instance, study, series, sop, numbers[0], params, media
    )
    return _thumbnail_answer(request, data, media)
