"""Composition root: builds the services on the backend the settings name.

Every runtime (local server, Lambda handlers, DIMSE bridge) gets its services here, so
each wires the same core the same way: index and blob store, the audit sink (JSON-lines file
locally, CloudWatch Logs group in AWS) and the event sink (in-process hooks locally,
EventBridge in AWS), with ingest and delete publishing a change event per instance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cloudpacs.model import InstanceRecord
from cloudpacs.ports import AuditReader, AuditSink, BlobStore, EventSink, Index
from cloudpacs.security.events import InstanceEvent, InstanceEventType, NullEventSink
from cloudpacs.services.corrections import CorrectionService
from cloudpacs.services.delete import DeleteService
from cloudpacs.services.ingest import IngestService, StoreStatus
from cloudpacs.services.query import QueryService
from cloudpacs.services.retention import RetentionService
from cloudpacs.services.retrieve import RetrieveService
from cloudpacs.settings import Settings
from cloudpacs.validation.iod_check import iod_check
from cloudpacs.wiring.large_objects import attach_large_objects
from cloudpacs.wiring.research import attach_deidentification
from cloudpacs.wiring.services import Services

__all__ = ["Services", "build_services"]

log = logging.getLogger(__name__)


def build_backend(settings: Settings) -> tuple[Index, BlobStore]:
    if settings.backend == "aws":
        from cloudpacs.adapters.aws.dynamo_index import DynamoIndex
        from cloudpacs.adapters.aws.s3_store import S3BlobStore

        assert settings.table_name and settings.bucket_name
        return DynamoIndex(settings.table_name), S3BlobStore(settings.bucket_name)
    from cloudpacs.adapters.local.file_store import FileBlobStore
    from cloudpacs.adapters.local.sqlite_index import SqliteIndex

    root = settings.data_dir
    return (
        SqliteIndex(root / "index.sqlite3", fsync=settings.fsync),
        FileBlobStore(root / "objects", fsync=settings.fsync),
    )


def build_audit(settings: Settings) -> tuple[AuditSink, AuditReader | None]:
    """The audit sink, and the reader behind ``GET /audit`` when the sink can be read."""
    if settings.backend == "aws":
        from cloudpacs.adapters.aws.cloudwatch_audit import CloudWatchAuditSink

        assert settings.audit_log_group
        return CloudWatchAuditSink(settings.audit_log_group, region_name=settings.aws_region), None
    from cloudpacs.adapters.local.jsonl_audit import JsonlAuditSink

    sink = JsonlAuditSink(settings.audit_file, fsync=settings.fsync)
    return sink, sink


def build_events(settings: Settings) -> EventSink:
    if settings.backend == "aws":
        if not settings.event_bus_name:
            return NullEventSink()
        from cloudpacs.adapters.aws.eventbridge_events import EventBridgeEventSink

        return EventBridgeEventSink(settings.event_bus_name, region_name=settings.aws_region)
    from cloudpacs.adapters.local.hook_events import HookEventSink

    return HookEventSink()


def build_services(
    settings: Settings,
    backend: tuple[Index, BlobStore] | None = None,
    *,
    audit: tuple[AuditSink, AuditReader | None] | None = None,
    events: EventSink | None = None,
) -> Services:
    """Services on the configured backend; ``backend``, ``audit`` (sink, reader) and
    ``events`` replace the configured adapters (tests, other runtimes)."""
    index, blobs = backend if backend is not None else build_backend(settings)
    sink, reader = audit if audit is not None else build_audit(settings)
    events = events if events is not None else build_events(settings)
    services = Services(
        settings=settings,
        index=index,
        blobs=blobs,
        ingest=IngestService(
            index,
            blobs,
            duplicate_policy=settings.duplicate_policy,
            validate=iod_check(settings.validation),
            on_stored=[publish_stored(events)],
            workers=settings.ingest_workers,
        ),
        query=QueryService(index, max_results=settings.qido_max_results),
        retrieve=RetrieveService(index, blobs),
        delete=DeleteService(index, blobs, on_deleted=[publish_deleted(events)]),
        corrections=CorrectionService(index, blobs, on_updated=[publish_updated(events)]),
        audit=sink,
        audit_reader=reader,
        events=events,
    )
    if settings.retention_days is not None:
        services.retention = RetentionService(
            index, services.delete, sink, days=settings.retention_days
        )
    attach_large_objects(services)
    attach_deidentification(services)
    return services


def publish_stored(events: EventSink) -> Callable[[InstanceRecord, StoreStatus], None]:
    """Ingest hook: ``InstanceStored`` for each instance stored or replaced."""

    def hook(record: InstanceRecord, status: StoreStatus) -> None:
        _publish(events, InstanceEventType.STORED, record)

    return hook


def publish_deleted(events: EventSink) -> Callable[[InstanceRecord], None]:
    """Delete hook: ``InstanceDeleted`` for each instance removed."""

    def hook(record: InstanceRecord) -> None:
        _publish(events, InstanceEventType.DELETED, record)

    return hook


def publish_updated(events: EventSink) -> Callable[[InstanceRecord], None]:
    """Correction hook: ``InstancesUpdated`` for each instance rewritten."""

    def hook(record: InstanceRecord) -> None:
        _publish(events, InstanceEventType.UPDATED, record)

    return hook


def _publish(events: EventSink, kind: InstanceEventType, record: InstanceRecord) -> None:
    # The change has happened when the hook runs; failing the request now would make the
    # client retry a store that succeeded (and an idempotent re-store publishes nothing).
    # So a publish failure is logged, with the UIDs needed to replay it, and not raised.
    try:
        events.publish([InstanceEvent.for_record(kind, record)])
    except Exception:
        log.exception(
            "publishing %s failed for study %s series %s instance %s",
            kind.value,
            record.study_uid,
            record.series_uid,
            record.sop_uid,
        )
