"""Small builders of index entries for the contract tests: no DICOM parsing at this level.

Attributes are DICOM JSON (PS3.18 Annex F) with the tags the index keys on; UIDs are short
but valid, and ``uid("…")`` keeps them under one root so tests read well.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cloudpacs.model import FrameTable, IndexEntry, InstanceRecord, JsonDataset

ROOT = "1.2.826.0.1.3680043.10.543"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


def uid(*parts: int | str) -> str:
    return ".".join([ROOT, *map(str, parts)])


def sha(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _value(vr: str, *values: Any) -> dict[str, Any]:
    return {"vr": vr, "Value": list(values)}


def study_attrs(
    study: str,
    *,
    patient_id: str | None = "PAT-1",
    name: str | None = "Doe^Jane",
    date: str | None = "20240115",
    accession: str | None = "ACC-1",
) -> JsonDataset:
    attrs: JsonDataset = {"0020000D": _value("UI", study)}
    if patient_id is not None:
        attrs["00100020"] = _value("LO", patient_id)
    if name is not None:
        attrs["00100010"] = _value("PN", {"Alphabetic": name})
    if date is not None:
        attrs["00080020"] = _value("DA", date)
    if accession is not None:
        attrs["00080050"] = _value("SH", accession)
    return attrs


def entry(
    study: str,
    series: str,
    sop: str,
    *,
    modality: str = "CT",
    sop_class: str = CT_IMAGE,
    version: int = 1,
    frames: FrameTable | None = None,
    **study_keys: Any,
) -> IndexEntry:
    """An entry for one instance; ``version`` changes the bytes (sha256, size, stored_at)."""
    record = InstanceRecord(
        study_uid=study,
        series_uid=series,
        sop_uid=sop,
        sop_class_uid=sop_class,
        transfer_syntax_uid=EXPLICIT_LE if frames is None else JPEG_BASELINE,
        sha256=sha(study, series, sop, version),
        size=1000 + version,
        attrs={
            "00080016": _value("UI", sop_class),
            "00080018": _value("UI", sop),
            "00200013": _value("IS", version),
        },
        header_length=300 + version,
        frames=frames,
        stored_at=f"2024-01-15T10:00:{version:02d}Z",
    )
    series_attrs: JsonDataset = {
        "0020000E": _value("UI", series),
        "00080060": _value("CS", modality),
    }
    return IndexEntry(
        study_attrs=study_attrs(study, **study_keys),
        series_attrs=series_attrs,
        instance=record,
        modality=modality,
    )


def native_frames(count: int = 3) -> FrameTable:
    return FrameTable(count=count, native=(1024, 512 * 512 * 2))


def encapsulated_frames(count: int, fragments_per_frame: int = 1) -> FrameTable:
    """Contiguous fragments with 8-byte item headers between them, lengths that vary."""
    offset = 2048
    frames = []
    for n in range(count):
        ranges = []
        for f in range(fragments_per_frame):
            offset += 8
            length = 20_000 + (n * 7919 + f * 104_729) % 40_000
            ranges.append((offset, length))
            offset += length
        frames.append(tuple(ranges))
    return FrameTable(count=count, fragments=tuple(frames))
