"""Ports: the small protocols every backend implements (DESIGN.md §2).

The embedded adapters (SQLite, local files) and the AWS adapters (DynamoDB, S3) implement
the same contracts; ``tests/contract`` runs one suite against both.

``AuditSink`` / ``AuditReader`` (JSON-lines file | CloudWatch Logs) and ``EventSink``
(in-process hooks | EventBridge) are defined beside their event models in
``cloudpacs.security`` and exported here, so every port is importable from one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from cloudpacs.model import (
    AddResult,
    IndexEntry,
    InstanceRecord,
    LegalHold,
    SeriesRecord,
    StoredStudy,
    StudyKeys,
    StudyPartition,
    StudyRecord,
)
from cloudpacs.security.audit import AuditReader, AuditSink
from cloudpacs.security.events import EventSink

__all__ = [
    "AuditReader",
    "AuditSink",
    "BlobExists",
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "EventSink",
    "Index",
]


class BlobExists(Exception):
    """``put(..., overwrite=False)`` found an object under the key already."""


class BlobNotFound(Exception):
    pass


@dataclass(frozen=True)
class BlobInfo:
    size: int
    sha256: str | None


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, *, sha256: str, overwrite: bool) -> None:
        """Store ``data`` durably. Raises ``BlobExists`` when not ``overwrite`` and present."""

    def get(self, key: str) -> bytes:
        """The whole object. Raises ``BlobNotFound``."""

    def get_buffer(self, key: str) -> bytes | memoryview:
        """The whole object to send as it is: the bytes of ``get``, or a read-only view of
        them the store has not copied (the file store maps large files). Raises
        ``BlobNotFound``."""

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset``: one ranged read."""

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream the object without holding it whole."""

    def head(self, key: str) -> BlobInfo | None:
        """Size and recorded checksum, or None when absent."""

    def delete(self, key: str) -> None:
        """Remove the object; absent objects are not an error."""

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` (used by the repair sweep and prefix deletes)."""

    def presigned_get_url(self, key: str, expires_in: int) -> str | None:
        """A short-lived URL a client can GET directly, or None if the store has none."""


class Index(Protocol):
    def add_instance(self, entry: IndexEntry, *, replace: bool) -> AddResult:
        """Index one instance with a conditional write.

        Without ``replace``, an existing entry for the SOP Instance UID is left untouched
        and returned as ``EXISTS``. With ``replace``, it is overwritten (``REPLACED``) and
        the aggregate counts do not change. Study and series records are created on first
        use; their counts, modalities, SOP classes and the series revision are updated in
        the same atomic write.
        """

    def get_instance(
        self, study_uid: str, series_uid: str, sop_uid: str
    ) -> InstanceRecord | None: ...

    def get_study(self, study_uid: str) -> StudyRecord | None: ...

    def get_studies(self, study_uids: list[str]) -> list[StudyRecord]:
        """Batch read; absent studies are skipped."""

    def study_partition(self, study_uid: str) -> StudyPartition | None:
        """The study, its series and its instances in one read."""

    def series_partition(
        self, study_uid: str, series_uid: str
    ) -> tuple[SeriesRecord, tuple[InstanceRecord, ...]] | None:
        """One series and its instances in one read."""

    def find_studies(self, keys: StudyKeys) -> Iterator[StudyRecord]:
        """Candidate studies for ``keys``: a superset of the matches, in no set order."""

    def locate_series(self, series_uid: str) -> str | None:
        """The StudyInstanceUID holding a series."""

    def locate_instance(self, sop_uid: str) -> tuple[str, str] | None:
        """(StudyInstanceUID, SeriesInstanceUID) holding an instance."""

    def remove_instances(
        self, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None
    ) -> list[InstanceRecord]:
        """Remove the entries of a study, a series or one instance; return what was removed.

        Aggregates (counts, modalities, SOP classes) are recomputed from what remains;
        empty series and studies disappear.
        """

    def get_hold(self, study_uid: str) -> LegalHold | None:
        """The study's legal hold; None when it has none (or is not indexed)."""

    def set_hold(self, study_uid: str, hold: LegalHold) -> bool:
        """Place or replace the study's hold; False (nothing written) when it is not indexed.

        The hold belongs to the study entry: it goes when the study's last instance does.
        """

    def release_hold(self, study_uid: str) -> LegalHold | None:
        """Remove the study's hold and return it; None when there was none."""

    def studies_stored_before(self, cutoff: str) -> Iterator[StoredStudy]:
        """Studies into which nothing was stored at or after ``cutoff`` (an ISO 8601 UTC time,
        compared as text with ``stored_at``), with their holds, oldest first."""
