"""Large uploads (DESIGN.md §5): objects too large for an API request go through the inbox.

1. ``create``: the client declares the upload (size, content type, optional target study) and
   gets an upload id and signed URL(s) into the inbox; the record starts ``pending``.
2. The client writes a Part-10 file or a ``multipart/related`` STOW body there.
3. The inbox reports the new object (S3 ObjectCreated -> SQS -> the ingest function; locally
   the in-process worker) and ``process`` runs the same ingest as STOW-RS, records the STOW-RS
   status and response dataset (``done``), then removes the inbox object.
4. ``status`` returns the record; ``GET /uploads/{id}`` answers with it.

States end ``done`` (ingest ran: STOW-RS status 200/202/409 and dataset, e.g. 409 with
failure reason 0xC000 for a file that is not DICOM) or ``failed`` (the body could not be read
at all, such as a broken multipart body: the 400/413 and reason ``POST /studies`` would give).
Server faults (storage or index unavailable) raise, so the message is delivered again; the
last attempt (``max_receives``) records ``failed`` with the
reason, and SQS moves the message to the dead-letter queue. Deliveries are at least once:
a record already final is not processed again, and its inbox object is removed.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from cloudpacs.errors import BadRequest, CloudPacsError, NotFound, PayloadTooLarge
from cloudpacs.multipart import MultipartParser, boundary_of
from cloudpacs.ports import BlobNotFound
from cloudpacs.services.ingest import IngestService, StoreOutcome
from cloudpacs.services.stow_parts import store_parts
from cloudpacs.services.stow_response import stow_response
from cloudpacs.services.uploads_model import (
    Inbox,
    UploadLedger,
    UploadRecord,
    UploadState,
    UploadTarget,
    inbox_key,
    is_upload_id,
    upload_id_of,
)
from cloudpacs.uids import check_uid

log = logging.getLogger(__name__)
DICOM = "application/dicom"
MULTIPART = "multipart/related"
MAX_RECORDED_RESPONSE = 256 * 1024
"""A STOW-RS response larger than this (thousands of instances in one upload) is recorded
without its list of stored instances, which keeps the record within an index item."""
SERVER_FAILURE = 500


class TransientIngestFailure(RuntimeError):
    """Ingest failed for a reason on the server side; the delivery should be retried."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class UploadService:
    def __init__(
        self,
        ingest: IngestService,
        ledger: UploadLedger,
        inbox: Inbox,
        *,
        max_upload_bytes: int,
        part_bytes: int,
        url_expiry_seconds: int,
        record_days: int,
        max_receives: int,
    ) -> None:
        self.ingest = ingest
        self.ledger = ledger
        self.inbox = inbox
        self.max_upload_bytes = max_upload_bytes
        self.part_bytes = part_bytes
        self.url_expiry_seconds = url_expiry_seconds
        self.record_seconds = record_days * 86400
        self.max_receives = max_receives
        self.on_finished: list[Callable[[UploadRecord], None]] = []
        """Called once an upload's outcome is recorded (the audit event of its ingest)."""

    # -- the API side -------------------------------------------------------------------
    def create(
        self,
        *,
        size: int | None,
        content_type: str | None,
        study: str | None,
        owner: str | None,
        owner_roles: tuple[str, ...] = (),
    ) -> tuple[UploadRecord, UploadTarget]:
        content_type = (content_type or DICOM).strip()
        media = content_type.split(";", 1)[0].strip().lower()
        if media == MULTIPART:
            boundary_of(content_type)  # 400 now rather than a failed upload later
        elif media != DICOM:
            raise BadRequest(f"uploads take {DICOM} or {MULTIPART}, not {media!r}")
        if size is not None and not 0 < size <= self.max_upload_bytes:
            raise PayloadTooLarge(
                f"an upload of {size} bytes is outside 1..{self.max_upload_bytes} bytes"
            )
        if study is not None:
            check_uid(study, "StudyInstanceUID")
        upload_id = secrets.token_hex(16)
        target = self.inbox.targets(
            inbox_key(upload_id),
            size,
            part_bytes=self.part_bytes,
            expires_in=self.url_expiry_seconds,
        )
        record = UploadRecord(
            upload_id=upload_id,
            state=UploadState.PENDING,
            created_at=_now(),
            expires_at=int(time.time()) + self.record_seconds,
            content_type=content_type,
            size=size,
            owner=owner,
            owner_roles=owner_roles,
            study=study,
            multipart_id=target.multipart_id,
        )
        self.ledger.create(record)
        return record, target

    def status(self, upload_id: str) -> UploadRecord:
        record = self.ledger.get(upload_id) if is_upload_id(upload_id) else None
        if record is None:
            raise NotFound(f"upload {upload_id[:40]!r} not found (or expired)")
        return record

    # -- the ingest side ----------------------------------------------------------------
    def process(
        self, key: str, *, attempt: int = 1, size: int | None = None
    ) -> UploadRecord | None:
        """Ingest the inbox object ``key``; None when it is no upload this API handed out.

        ``size``: the object's size when the event tells it (S3 does): an object over
        ``max_upload_bytes`` is refused without being read. Raises
        ``TransientIngestFailure`` (or the storage error) when the attempt should be
        repeated; on the last attempt the failure is recorded first.
        """
        upload_id = upload_id_of(key)
        if upload_id is None:
            log.warning("inbox object %r is not an upload; left to the inbox expiry", key[:200])
            return None
        record = self.ledger.get(upload_id)
        if record is None:
            log.warning("upload %s has no record (expired?); its object is removed", upload_id)
            self.inbox.delete(key)
            return None
        if record.state.final:
            self.inbox.delete(key)  # a repeated delivery of a finished upload
            return record
        if size is not None and size > self.max_upload_bytes:
            refused = _refused(
                record,
                PayloadTooLarge(
                    f"the upload of {size} bytes exceeds the limit of {self.max_upload_bytes}"
                ),
            )
            if self.ledger.save(refused):
                self._finished(refused)
            self.inbox.delete(key)
            return refused
        try:
            data = self.inbox.read(key)
        except BlobNotFound:
            log.info("upload %s: object already taken by another delivery", upload_id)
            return record
        working = _replace(record, state=UploadState.PROCESSING, attempts=record.attempts + 1)
        if not self.ledger.save(working):
            return self.ledger.get(upload_id)  # finished by another delivery meanwhile
        try:
            finished = self._ingest(working, data)
        except Exception as exc:
            if attempt >= self.max_receives:
                self.give_up(working, f"ingest failed {attempt} time(s): {exc}")
            raise
        if finished.http_status == SERVER_FAILURE and attempt < self.max_receives:
            raise TransientIngestFailure(f"upload {upload_id}: no instance could be stored")
        if self.ledger.save(finished):
            self._finished(finished)
        self.inbox.delete(key)
        return finished

    def _finished(self, record: UploadRecord) -> None:
        for hook in self.on_finished:
            try:
                hook(record)
            except Exception:
                # The outcome is recorded; failing now would ingest the upload again.
                log.exception("a hook failed for upload %s", record.upload_id)

    def give_up(self, record: UploadRecord, reason: str) -> None:
        """Record that the upload will not be ingested (its message goes to the DLQ)."""
        failed = _replace(
            record,
            state=UploadState.FAILED,
            http_status=SERVER_FAILURE,
            response=_error_json(SERVER_FAILURE, reason),
            reasons=(reason,),
            finished_at=_now(),
        )
        if self.ledger.save(failed):
            self._finished(failed)

    def _ingest(self, record: UploadRecord, data: bytes) -> UploadRecord:
        if len(data) > self.max_upload_bytes:
            return _refused(
                record, PayloadTooLarge(f"upload of {len(data)} bytes exceeds the limit")
            )
        try:
            outcomes = self._store(record, data)
        except CloudPacsError as exc:
            return _refused(record, exc)
        status, dataset = stow_response(outcomes)
        stored = [o for o in outcomes if o.ok]
        studies = {o.study_uid for o in stored if o.study_uid}
        body = json.dumps(dataset, separators=(",", ":")).encode()
        reasons = tuple(o.message for o in outcomes if not o.ok and o.message)
        if len(body) > MAX_RECORDED_RESPONSE:
            dataset.pop("00081199", None)
            reasons += (f"{len(stored)} instances stored; the list is too long to keep",)
            body = json.dumps(dataset, separators=(",", ":")).encode()
        return _replace(
            record,
            state=UploadState.DONE,
            http_status=status,
            response=body,
            reasons=reasons,
            finished_at=_now(),
            stored_count=len(stored),
            stored_study=studies.pop() if len(studies) == 1 else None,
        )

    def _store(self, record: UploadRecord, data: bytes) -> list[StoreOutcome]:
        boundary = _multipart_boundary(record.content_type, data)
        if boundary is None:
            return [self.ingest.store(data, expected_study=record.study)]
        parser = MultipartParser(boundary)
        parser.feed(data)
        parts = parser.close()
        if not parts:
            raise BadRequest("the multipart body holds no parts")
        return store_parts(self.ingest, parts, record.study)


def _multipart_boundary(content_type: str, data: bytes) -> str | None:
    """The boundary of a multipart/related upload; None for a Part-10 file.

    The declared type decides; a body declared as DICOM that starts like a multipart body
    (``--boundary`` on its first line, no ``DICM`` preamble) is read as one as well.
    """
    if content_type.split(";", 1)[0].strip().lower() == MULTIPART:
        return boundary_of(content_type)
    if data[128:132] == b"DICM":
        return None
    first = data.lstrip(b"\r\n")[:200].split(b"\r\n", 1)[0]
    if first.startswith(b"--") and len(first) > 2:
        return first[2:].decode("latin-1").strip()
    return None


def _refused(record: UploadRecord, exc: CloudPacsError) -> UploadRecord:
    return _replace(
        record,
        state=UploadState.FAILED,
        http_status=exc.status,
        response=_error_json(exc.status, exc.reason),
        reasons=(exc.reason,),
        finished_at=_now(),
    )


def _error_json(status: int, reason: str) -> bytes:
    return json.dumps({"status": status, "error": reason}).encode()


def _replace(record: UploadRecord, **changes: object) -> UploadRecord:
    return replace(record, **changes)  # type: ignore[arg-type]
