"""Thumbnails cached next to the series' objects (PS3.18 thumbnail resources), on both
backends: a cached series thumbnail is one object read; a changed series is not served an
old one (and the new one replaces it); deleting drops the cache."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from PIL import Image

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.dicom.render_params import RenderParams, Viewport
from cloudpacs.keys import thumbnails_prefix
from cloudpacs.ports import BlobInfo, BlobStore
from cloudpacs.runtime import Services, build_services
from cloudpacs.services.rendered import RenderService
from cloudpacs.services.thumbnails import ThumbnailService
from cloudpacs.settings import load_settings
from tests.support.synthetic import ct_instance, ct_study

from .conftest import Adapters

JPEG = "image/jpeg"


@dataclass
class CountingStore:
    """The backend's blob store, counting reads."""

    inner: BlobStore
    reads: Counter[str] = field(default_factory=Counter)

    def put(self, key: str, data: bytes, *, sha256: str, overwrite: bool) -> None:
        self.inner.put(key, data, sha256=sha256, overwrite=overwrite)

    def get(self, key: str) -> bytes:
        self.reads["get"] += 1
        return self.inner.get(key)

    def get_buffer(self, key: str) -> bytes | memoryview:
        self.reads["get_buffer"] += 1
        return self.inner.get_buffer(key)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        self.reads["get_range"] += 1
        return self.inner.get_range(key, offset, length)

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        self.reads["iter_chunks"] += 1
        return self.inner.iter_chunks(key, chunk_size)

    def head(self, key: str) -> BlobInfo | None:
        return self.inner.head(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def list_keys(self, prefix: str) -> Iterator[str]:
        return self.inner.list_keys(prefix)

    def presigned_get_url(self, key: str, expires_in: int) -> str | None:
        return self.inner.presigned_get_url(key, expires_in)


@pytest.fixture
def world(adapters: Adapters) -> tuple[Services, CountingStore, ThumbnailService]:
    blobs = CountingStore(adapters.blobs)
    services = build_services(
        load_settings(fsync=False, duplicate_policy="replace"), backend=(adapters.index, blobs)
    )
    thumbnails = ThumbnailService(RenderService(services.retrieve), services.index, blobs)
    return services, blobs, thumbnails


def test_series_thumbnail_is_one_read_once_cached(
    world: tuple[Services, CountingStore, ThumbnailService],
) -> None:
    services, blobs, thumbnails = world
    study, objects = ct_study(3, rows=32, columns=48)
    for data in objects:
        assert services.ingest.store(data).ok
    series = parse_instance(objects[0]).record.series_uid
    params = RenderParams(viewport=Viewport(24, 24))

    cold = thumbnails.series(study, series, params, JPEG)
    assert Image.open(io.BytesIO(cold)).size == (24, 16)  # aspect ratio kept
    cached = list(blobs.list_keys(thumbnails_prefix(study, series)))
    assert len(cached) == 1 and cached[0].endswith(".jpg")

    blobs.reads.clear()
    assert thumbnails.series(study, series, params, JPEG) == cold
    assert blobs.reads == Counter({"get": 1})
    blobs.reads.clear()
    assert thumbnails.study(study, params, JPEG) == cold  # the study's first series
    assert blobs.reads == Counter({"get": 1})


def test_a_changed_series_gets_a_new_thumbnail_and_delete_drops_them(
    world: tuple[Services, CountingStore, ThumbnailService],
) -> None:
    services, blobs, thumbnails = world
    study, objects = ct_study(1, rows=16, columns=16)
    rec = parse_instance(objects[0]).record
    assert services.ingest.store(objects[0]).ok
    params = RenderParams()
    first = thumbnails.series(study, rec.series_uid, params, JPEG)
    instance_thumb = thumbnails.instance(study, rec.series_uid, rec.sop_uid, None, params, JPEG)
    prefix = thumbnails_prefix(study, rec.series_uid)
    assert len(list(blobs.list_keys(prefix))) == 2

    # the same SOP Instance UID replaced by other pixels (duplicate policy "replace")
    other = ct_instance(study, rec.series_uid, 7, rows=16, columns=16, sop_uid=rec.sop_uid)
    assert services.ingest.store(other).ok
    blobs.reads.clear()
    second = thumbnails.series(study, rec.series_uid, params, JPEG)
    assert second != first and blobs.reads["get_range"] > 0  # rebuilt, not served stale
    again = thumbnails.instance(study, rec.series_uid, rec.sop_uid, None, params, JPEG)
    assert again != instance_thumb
    assert len(list(blobs.list_keys(prefix))) == 2  # written over, nothing left behind
    blobs.reads.clear()
    assert thumbnails.series(study, rec.series_uid, params, JPEG) == second
    assert blobs.reads == Counter({"get": 1})

    services.delete.delete(study, rec.series_uid)
    assert list(blobs.list_keys(prefix)) == []
