"""Thumbnail resources at study, series, instance and frame level (PS3.18 §9.5, thumbnail).

A thumbnail is a rendered image of a representative frame, at most ``DEFAULT_SIZE`` pixels
a side unless the request's ``viewport=vw,vh`` says otherwise:

- instance: its middle frame (or the frame asked for);
- series: the middle image instance by Instance Number;
- study: the thumbnail of its first series (by Series Number) that holds images.

Each is cached in the blob store next to the series' objects
(``studies/{study}/series/{series}/thumbnails/``), so a series thumbnail is one index read
and one object read after the first. A cached thumbnail starts with one line naming what it
was made from (the series revision, or the instance's SHA-256); a series that changed (an
instance added, replaced or deleted) no longer matches and its thumbnail is made again and
written over the old one, so the read side never deletes (only the write side deletes
anything in the archive: deleting instances drops the series' cached thumbnails).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from cloudpacs.dicom import image_output
from cloudpacs.dicom.render_params import RenderParams, Viewport
from cloudpacs.errors import NotAcceptable, NotFound
from cloudpacs.keys import thumbnails_prefix
from cloudpacs.model import InstanceRecord, SeriesRecord
from cloudpacs.ports import BlobNotFound, BlobStore, Index
from cloudpacs.services.rendered import RenderService
from cloudpacs.services.retrieve import has_pixels, ordered
from cloudpacs.uids import check_scope

DEFAULT_SIZE = 128
DEFAULT_QUALITY = 75
EXTENSIONS = {image_output.JPEG: "jpg", image_output.PNG: "png", image_output.GIF: "gif"}


def _variant(params: RenderParams, media: str) -> str:
    vp = params.viewport or Viewport(DEFAULT_SIZE, DEFAULT_SIZE)
    quality = params.quality or DEFAULT_QUALITY
    return f"{vp.width or ''}x{vp.height or ''}.q{quality}.{EXTENSIONS[media]}"


class ThumbnailService:
    def __init__(self, render: RenderService, index: Index, blobs: BlobStore) -> None:
        self.render = render
        self.index = index
        self.blobs = blobs

    def instance(
        self,
        study: str,
        series: str,
        sop: str,
        frame: int | None,
        params: RenderParams,
        media: str,
    ) -> bytes:
        rec = self.render.image_instances(study, series, sop)[0]
        key = f"{thumbnails_prefix(study, series)}{sop}.f{frame or 0}.{_variant(params, media)}"
        return self._cached(
            key, f"sha256 {rec.sha256}", lambda: self._make(rec, frame, params, media)
        )

    def series(self, study: str, series: str, params: RenderParams, media: str) -> bytes:
        check_scope(study, series)
        found = self.index.series_partition(study, series)
        if found is None:
            raise NotFound(f"series {series} not found in study {study}")
        return self._series(found[0], found[1], params, media)

    def study(self, study: str, params: RenderParams, media: str) -> bytes:
        check_scope(study)
        partition = self.index.study_partition(study)
        if partition is None:
            raise NotFound(f"study {study} not found")
        for se in sorted(partition.series, key=_series_order):
            members = tuple(i for i in partition.instances if i.series_uid == se.series_uid)
            if any(has_pixels(i) for i in members):
                return self._series(se, members, params, media)
        raise NotAcceptable(f"study {study} holds no image to make a thumbnail of")

    def _series(
        self,
        se: SeriesRecord,
        instances: tuple[InstanceRecord, ...],
        params: RenderParams,
        media: str,
    ) -> bytes:
        prefix = thumbnails_prefix(se.study_uid, se.series_uid)
        key = f"{prefix}series.{_variant(params, media)}"

        def build() -> bytes:
            images = [r for r in ordered(instances) if has_pixels(r)]
            if not images:
                reason = f"series {se.series_uid} holds no image to make a thumbnail of"
                raise NotAcceptable(reason)
            return self._make(images[len(images) // 2], None, params, media)

        return self._cached(key, f"revision {se.revision}", build)

    def _cached(self, key: str, source: str, build: Callable[[], bytes]) -> bytes:
        """The thumbnail under ``key`` if it was made from ``source``, else made anew."""
        tag = f"cloudpacs-thumbnail {source}".encode()
        try:
            head, _, body = self.blobs.get(key).partition(b"\n")
            if head == tag:
                return body
        except BlobNotFound:
            pass
        data = build()
        payload = tag + b"\n" + data
        self.blobs.put(key, payload, sha256=hashlib.sha256(payload).hexdigest(), overwrite=True)
        return data

    def _make(
        self, rec: InstanceRecord, frame: int | None, params: RenderParams, media: str
    ) -> bytes:
        viewport = params.viewport or Viewport(DEFAULT_SIZE, DEFAULT_SIZE)
        if frame is None:
            count = rec.frames.count if rec.frames is not None else 1
            frame = (count + 1) // 2
        _, images = self.render.frames(rec, [frame], replace(params, viewport=viewport))
        return image_output.encode(images, media, params.quality or DEFAULT_QUALITY)


def _series_order(se: SeriesRecord) -> tuple[float, str]:
    values = se.attrs.get("00200011", {}).get("Value")
    try:
        number = float(values[0]) if values else float("inf")
    except (TypeError, ValueError):
        number = float("inf")
    return number, se.series_uid
