"""Retrieve: WADO-RS instances, metadata, frames and bulk data (PS3.18 §10.4).

- Instances stream from the blob store as stored, or re-encoded on request.
- Metadata of a series is served from a cache object next to its instances
  (``.../metadata.json``), valid while the series revision recorded in the index is
  unchanged; a stale cache is rebuilt, re-reading only the headers of instances that
  changed. Each header is read with one ranged read of the bytes before Pixel Data.
- A frame is one ranged read of its bytes, from the offsets recorded at ingest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from cloudpacs.dicom import json_model, transcode
from cloudpacs.dicom.frames import join_fragments
from cloudpacs.errors import BadRequest, NotAcceptable, NotFound
from cloudpacs.keys import instance_key, series_metadata_key
from cloudpacs.model import InstanceRecord, JsonDataset, SeriesRecord
from cloudpacs.ports import BlobNotFound, BlobStore, Index
from cloudpacs.uids import check_scope, check_uid

PIXEL_DATA = "7FE00010"


@dataclass(frozen=True)
class Frame:
    number: int
    data: bytes
    transfer_syntax: str
    """Syntax of ``data``: the stored one, or Explicit VR Little Endian once decoded."""


def instance_path(rec: InstanceRecord) -> str:
    return f"studies/{rec.study_uid}/series/{rec.series_uid}/instances/{rec.sop_uid}"


def has_pixels(rec: InstanceRecord) -> bool:
    """Whether the instance holds Pixel Data (bytes follow the header, or frames were found)."""
    return rec.frames is not None or rec.header_length < rec.size


def parse_frame_list(text: str) -> list[int]:
    numbers: list[int] = []
    for item in text.split(","):
        item = item.strip()
        if not item.isdigit() or int(item) < 1:
            raise BadRequest(f"invalid frame number {item[:20]!r} (frames are numbered from 1)")
        numbers.append(int(item))
    return numbers


@dataclass(frozen=True)
class MetadataScope:
    """The instances a metadata answer is made of, by series (None: one instance's own)."""

    parts: tuple[tuple[SeriesRecord | None, tuple[InstanceRecord, ...]], ...]

    @property
    def records(self) -> list[InstanceRecord]:
        return [rec for _, members in self.parts for rec in members]


class RetrieveService:
    def __init__(self, index: Index, blobs: BlobStore) -> None:
        self.index = index
        self.blobs = blobs

    # -- which instances --------------------------------------------------------------
    def instances(
        self, study: str, series: str | None = None, sop: str | None = None
    ) -> list[InstanceRecord]:
        """Instances of a study, a series or one instance, in series/instance order."""
        check_scope(study, series, sop)
        if sop is not None:
            assert series is not None
            rec = self.index.get_instance(study, series, sop)
            if rec is None:
                raise NotFound(f"instance {sop} not found in series {series} of study {study}")
            return [rec]
        if series is not None:
            found = self.index.series_partition(study, series)
            if found is None:
                raise NotFound(f"series {series} not found in study {study}")
            return ordered(found[1])
        partition = self.index.study_partition(study)
        if partition is None:
            raise NotFound(f"study {study} not found")
        return ordered(partition.instances)

    # -- bytes ------------------------------------------------------------------------
    def chunks(self, rec: InstanceRecord, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
        return self.blobs.iter_chunks(key, chunk_size)

    def read(self, rec: InstanceRecord) -> bytes:
        return self.blobs.get(instance_key(rec.study_uid, rec.series_uid, rec.sop_uid))

    def sendable(self, rec: InstanceRecord) -> bytes | memoryview:
        """The instance's bytes to send as stored, uncopied where the store can
        (``BlobStore.get_buffer``)."""
        return self.blobs.get_buffer(instance_key(rec.study_uid, rec.series_uid, rec.sop_uid))

    def converted(self, rec: InstanceRecord, transfer_syntax: str) -> bytes:
        """The instance in ``transfer_syntax`` (``transcode.producible`` lists which)."""
        if transfer_syntax == rec.transfer_syntax_uid:
            return self.read(rec)
        return transcode.transcode(self.read(rec), rec.transfer_syntax_uid, transfer_syntax)

    def header(self, rec: InstanceRecord) -> Dataset:
        """The instance's dataset up to Pixel Data: one ranged read."""
        key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
        return transcode.header_dataset(self.blobs.get_range(key, 0, rec.header_length))

    def check_convertible(self, records: list[InstanceRecord], transfer_syntax: str) -> None:
        """406 unless every instance can be sent in ``transfer_syntax``: checked before a
        response starts, so a streamed body never stops half-way."""
        for rec in records:
            if transfer_syntax == rec.transfer_syntax_uid:
                continue
            offered = transcode.producible(rec.transfer_syntax_uid)
            if transfer_syntax not in offered:
                raise transcode.not_acceptable(transfer_syntax, offered, f"instance {rec.sop_uid}")
            if transfer_syntax in transcode.NATIVE_TARGETS:
                continue
            ds = self.header(rec)
            pixels = has_pixels(rec)
            reason = transcode.unsuitable(ds, transfer_syntax, has_pixels=pixels)
            if reason is not None:
                usable = [
                    t for t in offered if transcode.unsuitable(ds, t, has_pixels=pixels) is None
                ]
                raise NotAcceptable(
                    f"instance {rec.sop_uid}: {reason}; "
                    f"available transfer syntaxes: {', '.join(usable)}"
                )

    # -- frames -----------------------------------------------------------------------
    def frames(
        self,
        rec: InstanceRecord,
        numbers: list[int],
        *,
        decode: bool = False,
        encode: str | None = None,
    ) -> list[Frame]:
        """Frames by number; ``decode`` returns native pixel bytes for compressed data,
        ``encode`` each frame in that transfer syntax."""
        self.check_frames(rec, numbers)
        if encode is not None and encode != rec.transfer_syntax_uid:
            data = self.read(rec)
            encoded = transcode.encode_frames(data, rec.transfer_syntax_uid, numbers, encode)
            return [Frame(n, f, encode) for n, f in zip(numbers, encoded, strict=True)]
        compressed = rec.transfer_syntax_uid not in transcode.UNCOMPRESSED
        if rec.frames is None or (decode and compressed):
            data = self.read(rec)
            return [
                Frame(n, transcode.decode_frame(data, n), ExplicitVRLittleEndian) for n in numbers
            ]
        key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
        out = []
        for n in numbers:
            ranges = rec.frames.ranges(n)
            start = ranges[0][0]
            end = ranges[-1][0] + ranges[-1][1]
            raw = self.blobs.get_range(key, start, end - start)
            out.append(Frame(n, join_fragments(raw, ranges), rec.transfer_syntax_uid))
        return out

    def check_frames(self, rec: InstanceRecord, numbers: list[int]) -> None:
        """404 for an instance without pixel data or frame numbers past its last frame."""
        if not has_pixels(rec):
            raise NotFound(f"instance {rec.sop_uid} has no pixel data")
        count = rec.frames.count if rec.frames else None
        for n in numbers:
            if count is not None and n > count:
                raise NotFound(f"instance {rec.sop_uid} has {count} frame(s); no frame {n}")

    # -- metadata ---------------------------------------------------------------------
    def instance_metadata(self, rec: InstanceRecord) -> JsonDataset:
        key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
        prefix = self.blobs.get_range(key, 0, rec.header_length)
        ds = transcode.header_dataset(prefix)
        meta = json_model.instance_metadata(ds, instance_path(rec))
        if rec.header_length < rec.size and PIXEL_DATA not in meta:
            encapsulated = rec.frames is not None and rec.frames.native is None
            vr = "OB" if encapsulated or int(ds.get("BitsAllocated") or 8) <= 8 else "OW"
            meta[PIXEL_DATA] = {
                "vr": vr,
                "BulkDataURI": f"{json_model.BULK_BASE}/{instance_path(rec)}/bulkdata/{PIXEL_DATA}",
            }
        return meta

    def metadata_scope(
        self, study: str, series: str | None = None, sop: str | None = None
    ) -> MetadataScope:
        """What the metadata of a study, a series or an instance is made of: one index read."""
        if sop is not None:
            return MetadataScope(((None, tuple(self.instances(study, series, sop))),))
        if series is not None:
            check_uid(study, "StudyInstanceUID")
            check_uid(series, "SeriesInstanceUID")
            found = self.index.series_partition(study, series)
            if found is None:
                raise NotFound(f"series {series} not found in study {study}")
            return MetadataScope(((found[0], found[1]),))
        check_uid(study, "StudyInstanceUID")
        partition = self.index.study_partition(study)
        if partition is None:
            raise NotFound(f"study {study} not found")
        return MetadataScope(
            tuple(
                (se, tuple(i for i in partition.instances if i.series_uid == se.series_uid))
                for se in partition.series
            )
        )

    def metadata_of(self, scope: MetadataScope) -> bytes:
        """DICOM JSON array of the scope's metadata, bulk data URIs unbound. An instance
        deleted since the scope was read is left out; when all are, the answer is 404."""
        arrays = []
        for series, members in scope.parts:
            if series is None:
                items = [m for m in map(self._metadata_if_stored, members) if m is not None]
                array = json_model.dumps(items) if items else None
            else:
                array = self._series_metadata(series, members)
            if array is not None:
                arrays.append(array)
        if not arrays:
            raise NotFound("the instances were deleted while their metadata was read")
        return arrays[0] if len(arrays) == 1 else _join_arrays(arrays)

    def _metadata_if_stored(self, rec: InstanceRecord) -> JsonDataset | None:
        try:
            return self.instance_metadata(rec)
        except BlobNotFound:  # deleted (by a concurrent DELETE) after the index was read
            return None

    def metadata(self, study: str, series: str | None = None, sop: str | None = None) -> bytes:
        """DICOM JSON array of the instances' metadata, bulk data URIs unbound."""
        return self.metadata_of(self.metadata_scope(study, series, sop))

    def _series_metadata(
        self, series: SeriesRecord, instances: tuple[InstanceRecord, ...]
    ) -> bytes | None:
        """The series' metadata array from its cache, refreshed when stale; None when every
        instance was deleted since the index was read."""
        key = series_metadata_key(series.study_uid, series.series_uid)
        cached: dict[str, JsonDataset] = {}
        try:
            header, _, body = self.blobs.get(key).partition(b"\n")
            manifest = json_model.loads(header)
            if manifest.get("revision") == series.revision:
                return body
            shas = manifest.get("shas", {})
            for item in json_model.loads(body):
                sop = item.get("00080018", {}).get("Value", [None])[0]
                if sop is not None and sop in shas:
                    cached[f"{sop}:{shas[sop]}"] = item
        except (BlobNotFound, ValueError):
            pass
        members = ordered(instances)
        found = [
            cached.get(f"{rec.sop_uid}:{rec.sha256}") or self._metadata_if_stored(rec)
            for rec in members
        ]
        items = [item for item in found if item is not None]
        if len(items) < len(found):  # a delete is under way: answer, cache nothing
            return json_model.dumps(items) if items else None
        body = json_model.dumps(items)
        manifest_bytes = json_model.dumps(
            {"revision": series.revision, "shas": {r.sop_uid: r.sha256 for r in members}}
        )
        payload = manifest_bytes + b"\n" + body
        self.blobs.put(key, payload, sha256=hashlib.sha256(payload).hexdigest(), overwrite=True)
        return body

    # -- bulk data --------------------------------------------------------------------
    def bulkdata(self, rec: InstanceRecord, tag_path: str) -> bytes:
        """The value of the element at ``tag_path`` ("7FE00010", "00540016/0/00181072")."""
        import io

        import pydicom

        parts = tag_path.strip("/").split("/")
        ds = pydicom.dcmread(io.BytesIO(self.read(rec)))
        node: object = ds
        try:
            for i, part in enumerate(parts):
                # tag path: tag / item index / tag / ...
                node = node[int(part, 16)].value if i % 2 == 0 else node[int(part)]  # type: ignore[index]
        except (KeyError, IndexError, ValueError, TypeError):
            raise NotFound(f"no bulk data at {tag_path!r} in instance {rec.sop_uid}") from None
        if isinstance(node, bytes):
            return node
        raise NotFound(f"{tag_path!r} is not a bulk data element")


def ordered(instances: tuple[InstanceRecord, ...] | list[InstanceRecord]) -> list[InstanceRecord]:
    def key(rec: InstanceRecord) -> tuple[str, float, str]:
        values = rec.attrs.get("00200013", {}).get("Value")
        try:
            number = float(values[0]) if values else float("inf")
        except (TypeError, ValueError):
            number = float("inf")
        return rec.series_uid, number, rec.sop_uid

    return sorted(instances, key=key)


def _join_arrays(arrays: list[bytes]) -> bytes:
    inner = [a[1:-1] for a in arrays if len(a) > 2]
    return b"[" + b",".join(inner) + b"]"
