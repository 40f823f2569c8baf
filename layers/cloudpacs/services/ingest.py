"""Ingest: store an object as received, then index it (DESIGN.md §6).

Order of writes: the object first (conditional: never over another object unless the
duplicate policy says ``replace``), then the index entry (conditional). A crash between the
two leaves an object without an index entry, which a later store of the same instance
repairs and the repair sweep finds; never an index entry without its object.

Duplicates (same Study/Series/SOP Instance UIDs):
- same bytes (same SHA-256): idempotent success, nothing written;
- different bytes: ``reject`` -> failure 0x0111 (Duplicate SOP Instance, PS3.7 C.4.2);
  ``ignore`` -> the stored object is kept, warning 0xB006 (Elements Discarded);
  ``replace`` -> the new object replaces the old one.

An object that is overwritten (``replace``, or an unindexed leftover) is put back when the
index write that should follow fails or finds the instance indexed by another writer in the
meantime, so the stored object is always the one the index entry describes.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import Context, copy_context
from dataclasses import dataclass, replace

from cloudpacs.dicom.parse import ParsedInstance, parse_instance
from cloudpacs.errors import InvalidDicom
from cloudpacs.keys import instance_key
from cloudpacs.model import AddOutcome, InstanceRecord
from cloudpacs.ports import BlobExists, BlobStore, Index
from cloudpacs.settings import DuplicatePolicy
from cloudpacs.validation.iod_check import Verdict

log = logging.getLogger(__name__)

# Failure and warning reasons (PS3.18 §10.5.3 with PS3.4 C.4.2.1.4 / PS3.7 C.4.2).
PROCESSING_FAILURE = 0x0110
DUPLICATE_SOP_INSTANCE = 0x0111
DATASET_DOES_NOT_MATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000
ELEMENTS_DISCARDED = 0xB006


class StoreStatus(enum.Enum):
    STORED = "stored"
    ALREADY_STORED = "already-stored"
    REPLACED = "replaced"
    IGNORED = "ignored"
    FAILED = "failed"


@dataclass(frozen=True)
class StoreOutcome:
    status: StoreStatus
    sop_class_uid: str | None = None
    sop_uid: str | None = None
    study_uid: str | None = None
    series_uid: str | None = None
    failure_reason: int | None = None
    warning_reason: int | None = None
    message: str = ""
    record: InstanceRecord | None = None

    @property
    def ok(self) -> bool:
        return self.status is not StoreStatus.FAILED

    @property
    def conflict(self) -> bool:
        """A failure caused by the request's content rather than by the server."""
        return self.failure_reason in (
            DUPLICATE_SOP_INSTANCE,
            DATASET_DOES_NOT_MATCH,
            CANNOT_UNDERSTAND,
        )


StoredHook = Callable[[InstanceRecord, StoreStatus], None]
FailedHook = Callable[[StoreOutcome], None]


class IngestService:
    def __init__(
        self,
        index: Index,
        blobs: BlobStore,
        *,
        duplicate_policy: DuplicatePolicy = "reject",
        on_stored: list[StoredHook] | None = None,
        on_failed: list[FailedHook] | None = None,
        workers: int = 4,
        validate: Callable[[bytes], Verdict | None] | None = None,
    ) -> None:
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.index = index
        self.blobs = blobs
        self.duplicate_policy = duplicate_policy
        self.on_stored = on_stored if on_stored is not None else []
        self.on_failed = on_failed if on_failed is not None else []
        """Called with each object that was refused or could not be stored (metrics)."""
        self.validate = validate
        """The IOD check (``cloudpacs.validation``), where the settings ask for one."""

    def store_many(
        self, objects: list[bytes], *, expected_study: str | None = None
    ) -> list[StoreOutcome]:
        """Store several objects concurrently; outcomes in the order of ``objects``.

        Hashing, file writes and flushes release the interpreter lock, so a few workers
        overlap them (and let the file system merge the flushes of one request).
        """
        if len(objects) <= 1 or self.workers <= 1:
            return [self.store(o, expected_study=expected_study) for o in objects]
        # Each worker runs in a copy of the caller's context, so hooks see the caller's
        # context variables (the request's audit transaction, tracing, log correlation).
        contexts = [copy_context() for _ in objects]

        def store_in(context: Context, data: bytes) -> StoreOutcome:
            return context.run(self.store, data, expected_study=expected_study)

        return list(self._pool().map(store_in, contexts, objects))

    def submit(self, data: bytes, *, expected_study: str | None = None) -> Future[StoreOutcome]:
        """Store one object on the worker pool, in a copy of the caller's context."""
        context = copy_context()
        return self._pool().submit(context.run, self.store, data, expected_study=expected_study)

    def _pool(self) -> ThreadPoolExecutor:
        """One pool for the life of the service: its threads keep their index connections."""
        with self._pool_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="ingest"
                )
            return self._executor

    def store(self, data: bytes, *, expected_study: str | None = None) -> StoreOutcome:
        """Validate, store and index one Part-10 object; never raises for bad input."""
        outcome = self._store(data, expected_study)
        if not outcome.ok:
            for hook in self.on_failed:
                hook(outcome)
        return outcome

    def _store(self, data: bytes, expected_study: str | None) -> StoreOutcome:
        try:
            parsed = parse_instance(data)
        except InvalidDicom as exc:
            return StoreOutcome(
                StoreStatus.FAILED, failure_reason=CANNOT_UNDERSTAND, message=exc.reason
            )
        rec = parsed.record
        if expected_study is not None and rec.study_uid != expected_study:
            return _failed(
                rec,
                DATASET_DOES_NOT_MATCH,
                f"StudyInstanceUID {rec.study_uid} does not match the target study "
                f"{expected_study}",
            )
        verdict = self.validate(data) if self.validate is not None else None
        if verdict is not None and verdict.refuse:
            return _failed(rec, verdict.reason, verdict.message)
        try:
            outcome = self._store_parsed(parsed)
            if verdict is not None and outcome.ok and outcome.warning_reason is None:
                outcome = replace(outcome, warning_reason=verdict.reason, message=verdict.message)
        except Exception:
            log.exception("storing %s failed", rec.sop_uid)
            return _failed(rec, PROCESSING_FAILURE, "the instance could not be stored")
        if outcome.status in (StoreStatus.STORED, StoreStatus.REPLACED):
            for hook in self.on_stored:
                hook(rec, outcome.status)
        return outcome

    def _store_parsed(self, parsed: ParsedInstance) -> StoreOutcome:
        rec = parsed.record
        key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
        existing: InstanceRecord | None = None
        previous: bytes | None = None
        try:
            self.blobs.put(key, parsed.data, sha256=rec.sha256, overwrite=False)
        except BlobExists:
            existing = self.index.get_instance(rec.study_uid, rec.series_uid, rec.sop_uid)
            decision = self._on_existing(rec, existing, key)
            if decision is not None:
                return decision
            # Keep the object we overwrite: it goes back if our index write does not happen
            # (a failure, or another writer indexing that very object in the meantime).
            previous = self.blobs.get(key)
            if previous == parsed.data:
                previous = None
            else:
                self.blobs.put(key, parsed.data, sha256=rec.sha256, overwrite=True)
        try:
            result = self.index.add_instance(parsed.entry, replace=existing is not None)
        except Exception:
            self._put_back(key, previous)
            raise
        if result.outcome is AddOutcome.EXISTS:
            # Another writer indexed this instance between our checks.
            assert result.existing is not None
            if result.existing.sha256 == rec.sha256:
                return _ok(rec, StoreStatus.ALREADY_STORED)
            self._put_back(key, previous)
            return self._duplicate(rec)
        status = (
            StoreStatus.REPLACED if result.outcome is AddOutcome.REPLACED else (StoreStatus.STORED)
        )
        return _ok(rec, status)

    def _put_back(self, key: str, previous: bytes | None) -> None:
        if previous is not None:
            sha256 = hashlib.sha256(previous).hexdigest()
            self.blobs.put(key, previous, sha256=sha256, overwrite=True)

    def _on_existing(
        self, rec: InstanceRecord, existing: InstanceRecord | None, key: str
    ) -> StoreOutcome | None:
        """Decide what an object already under ``key`` means; None: overwrite it."""
        if existing is None:
            info = self.blobs.head(key)
            if info is not None and info.sha256 == rec.sha256:
                return None  # an unindexed copy of these very bytes: finish indexing it
            log.warning("replacing an unindexed object at %s", key)
            return None
        if existing.sha256 == rec.sha256:
            return _ok(rec, StoreStatus.ALREADY_STORED)
        if self.duplicate_policy == "replace":
            return None
        return self._duplicate(rec)

    def _duplicate(self, rec: InstanceRecord) -> StoreOutcome:
        if self.duplicate_policy == "ignore":
            return StoreOutcome(
                StoreStatus.IGNORED,
                rec.sop_class_uid,
                rec.sop_uid,
                rec.study_uid,
                rec.series_uid,
                warning_reason=ELEMENTS_DISCARDED,
                message="a different object with this SOP Instance UID is stored; kept it",
                record=rec,
            )
        return _failed(
            rec,
            DUPLICATE_SOP_INSTANCE,
            "a different object with this SOP Instance UID is already stored",
        )


def _ok(rec: InstanceRecord, status: StoreStatus) -> StoreOutcome:
    return StoreOutcome(
        status, rec.sop_class_uid, rec.sop_uid, rec.study_uid, rec.series_uid, record=rec
    )


def _failed(rec: InstanceRecord, reason: int, message: str) -> StoreOutcome:
    return StoreOutcome(
        StoreStatus.FAILED,
        rec.sop_class_uid,
        rec.sop_uid,
        rec.study_uid,
        rec.series_uid,
        failure_reason=reason,
        message=message,
    )
