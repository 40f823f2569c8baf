"""Wiring of the paths for objects larger than an API request or response (DESIGN.md §5).

- uploads: the inbox and the upload ledger on the configured backend (S3 inbox bucket and the
  index table; locally a folder, JSON records and the in-process worker that stands in for
  S3 events, SQS and the ingest function), and the audit event of each upload's ingest;
- large responses: redirects to presigned URLs where the blob store can sign them (S3).
"""

from __future__ import annotations

from collections.abc import Callable

from cloudpacs.security.audit import (
    ANONYMOUS,
    AuditEvent,
    AuditSink,
    EntryPoint,
    Outcome,
    reason_for_status,
    utc_now,
)
from cloudpacs.security.permissions import Action
from cloudpacs.services.large_responses import LargeResponses, ResponseStaging
from cloudpacs.services.uploads import UploadService
from cloudpacs.services.uploads_model import Inbox, UploadLedger, UploadRecord
from cloudpacs.wiring.services import Services


def attach_large_objects(services: Services) -> None:
    settings = services.settings
    if isinstance(services.blobs, ResponseStaging):
        services.large_responses = LargeResponses(
            services.blobs,
            services.retrieve,
            inline_limit=settings.inline_response_bytes,
            expires_in=settings.presign_expiry_seconds,
        )
    parts = _upload_ports(services)
    if parts is None:
        return
    ledger, inbox = parts
    services.uploads = UploadService(
        services.ingest,
        ledger,
        inbox,
        max_upload_bytes=settings.max_upload_bytes,
        part_bytes=settings.upload_part_bytes,
        url_expiry_seconds=settings.upload_url_expiry_seconds,
        record_days=settings.upload_expiry_days,
        max_receives=settings.ingest_max_receives,
    )
    services.uploads.on_finished.append(audit_ingest(services.audit))
    if settings.backend != "aws":
        from cloudpacs.adapters.local.file_inbox import FileInbox
        from cloudpacs.adapters.local.inbox_worker import InboxWorker

        assert isinstance(inbox, FileInbox)
        worker = InboxWorker(services.uploads.process, max_receives=settings.ingest_max_receives)
        inbox.on_created = worker.submit
        services.inbox_worker = worker


def audit_ingest(audit: AuditSink) -> Callable[[UploadRecord], None]:
    """Upload hook: the store an upload ends in is audited like ``POST /studies``, in the
    name of who declared it (the declaration itself was audited as ``upload``)."""

    def hook(record: UploadRecord) -> None:
        status = record.http_status or 500
        audit.emit(
            AuditEvent(
                time=utc_now(),
                actor=record.owner or ANONYMOUS,
                roles=record.owner_roles,
                source_address=None,
                action=Action.STORE.value,
                outcome=Outcome.SUCCESS if status < 400 else Outcome.FAILED,
                status=status,
                request_id=record.upload_id,
                entry_point=EntryPoint.INBOX,
                study_uid=record.stored_study,
                instance_count=record.stored_count,
                reason=reason_for_status(status),
            )
        )

    return hook


def _upload_ports(services: Services) -> tuple[UploadLedger, Inbox] | None:
    settings = services.settings
    if settings.backend == "aws":
        if not (settings.inbox_bucket_name and settings.table_name):
            return None  # a function that serves no uploads (qido, wado)
        from cloudpacs.adapters.aws.dynamo_uploads import DynamoUploadLedger
        from cloudpacs.adapters.aws.s3_inbox import S3Inbox

        return DynamoUploadLedger(settings.table_name), S3Inbox(settings.inbox_bucket_name)
    from cloudpacs.adapters.local.file_inbox import FileInbox
    from cloudpacs.adapters.local.file_uploads import FileUploadLedger

    root = settings.data_dir
    return FileUploadLedger(root / "uploads"), FileInbox(root / "inbox", fsync=settings.fsync)
