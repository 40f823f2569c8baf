"""The index's logical model: study, series and instance records, shared by every adapter.

Attributes are held in DICOM JSON form (PS3.18 Annex F): ``{"00100020": {"vr": "LO",
"Value": ["123"]}}``, so that query results are assembled without conversion.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

JsonDataset = dict[str, dict[str, Any]]
"""A DICOM JSON object: tag (8 upper-case hex digits) -> {"vr": ..., "Value": [...]}."""

ByteRange = tuple[int, int]
"""(offset, length) of bytes inside a stored object."""


@dataclass(frozen=True)
class FrameTable:
    """Where each frame's bytes lie in the stored object, recorded at ingest.

    Native pixel data: frame ``n`` (1-based) starts at ``native[0] + (n-1)*native[1]``.
    Encapsulated pixel data: ``fragments[n-1]`` lists the (offset, length) of each fragment
    value of frame ``n``; the fragments of one frame are contiguous apart from the 8-byte item
    headers, so a frame is still one ranged read.
    """

    count: int
    native: ByteRange | None = None
    fragments: tuple[tuple[ByteRange, ...], ...] = ()

    def ranges(self, number: int) -> tuple[ByteRange, ...]:
        """The byte ranges of frame ``number`` (1-based); caller checks bounds."""
        if self.native is not None:
            offset, length = self.native
            return ((offset + (number - 1) * length, length),)
        return self.fragments[number - 1]

    def to_json(self) -> dict[str, Any]:
        if self.native is not None:
            return {"n": self.count, "native": list(self.native)}
        return {"n": self.count, "frag": [[list(r) for r in f] for f in self.fragments]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FrameTable:
        if "native" in data:
            off, length = data["native"]
            return cls(count=int(data["n"]), native=(int(off), int(length)))
        frags = tuple(tuple((int(o), int(n)) for o, n in f) for f in data["frag"])
        return cls(count=int(data["n"]), fragments=frags)


@dataclass(frozen=True)
class InstanceRecord:
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    sha256: str
    size: int
    attrs: JsonDataset
    """Instance-level attributes kept for matching and QIDO results."""
    header_length: int
    """Bytes before the Pixel Data element: metadata is parsed from this prefix alone."""
    frames: FrameTable | None = None
    stored_at: str = ""
    modality: str = ""
    """The series' Modality, carried for events and metrics; not part of the index entry."""


@dataclass(frozen=True)
class SeriesRecord:
    study_uid: str
    series_uid: str
    attrs: JsonDataset
    instance_count: int
    revision: int
    """Changes on every add or removal of an instance: validates cached series metadata."""


@dataclass(frozen=True)
class StudyRecord:
    study_uid: str
    attrs: JsonDataset
    """Patient- and study-level attributes."""
    series_count: int
    instance_count: int
    modalities: tuple[str, ...]
    sop_classes: tuple[str, ...]


@dataclass(frozen=True)
class StudyPartition:
    """Everything the index holds for one study: one read in every backend."""

    study: StudyRecord
    series: tuple[SeriesRecord, ...]
    instances: tuple[InstanceRecord, ...]


@dataclass(frozen=True)
class IndexEntry:
    """What ingest hands the index for one instance."""

    study_attrs: JsonDataset
    series_attrs: JsonDataset
    instance: InstanceRecord
    modality: str = ""


class AddOutcome(enum.Enum):
    CREATED = "created"
    REPLACED = "replaced"
    EXISTS = "exists"
    """Not written: an instance with this SOP Instance UID is already indexed."""


@dataclass(frozen=True)
class AddResult:
    outcome: AddOutcome
    existing: InstanceRecord | None = None


@dataclass(frozen=True)
class StudyKeys:
    """Narrowing keys for a study search: the index returns a superset of the matches.

    The query service derives these from a query and re-applies the full matching rules
    to what comes back, so an adapter only chooses the cheapest access path.
    """

    study_uids: tuple[str, ...] | None = None
    patient_id: str | None = None
    accession_number: str | None = None
    study_date: tuple[str, str] | None = None
    """Inclusive YYYYMMDD range; open ends are "" (lower) and "99991231" (upper)."""
    patient_name_prefix: str | None = None
    """Normalized (see ``dicom.names.normalize_name``) leading characters of PatientName."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LegalHold:
    """A study kept from deletion, by a user or by the retention job, until released."""

    reason: str
    since: str
    """When the hold was placed: ISO 8601, UTC."""
    by: str
    """Username of the admin who placed it."""


@dataclass(frozen=True)
class StoredStudy:
    """A study with the time an instance was last stored into it (retention selection)."""

    study_uid: str
    last_stored_at: str
    """``stored_at`` of the latest store into the study; deletes do not lower it."""
    hold: LegalHold | None = None
