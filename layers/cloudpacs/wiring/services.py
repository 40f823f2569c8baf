"""The bundle of services one process runs on one backend (built by ``cloudpacs.runtime``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloudpacs.ports import AuditReader, AuditSink, BlobStore, EventSink, Index
from cloudpacs.services.corrections import CorrectionService
from cloudpacs.services.delete import DeleteService
from cloudpacs.services.ingest import IngestService
from cloudpacs.services.large_responses import LargeResponses
from cloudpacs.services.legal_hold import LegalHolds
from cloudpacs.services.query import QueryService
from cloudpacs.services.retention import RetentionService
from cloudpacs.services.retrieve import RetrieveService
from cloudpacs.services.uploads import UploadService
from cloudpacs.settings import Settings

if TYPE_CHECKING:  # built only where configured (cloudpacs.wiring), imported there
    from cloudpacs.adapters.local.inbox_worker import InboxWorker
    from cloudpacs.services.deid_jobs import DeidJobs
    from cloudpacs.services.deid_model import TaskQueue
    from cloudpacs.services.deid_worker import DeidWorker


@dataclass
class Services:
    settings: Settings
    index: Index
    blobs: BlobStore
    ingest: IngestService
    query: QueryService
    retrieve: RetrieveService
    delete: DeleteService
    audit: AuditSink
    audit_reader: AuditReader | None
    """Where ``GET /audit`` reads from; None when the trail is read elsewhere (CloudWatch)."""
    events: EventSink
    corrections: CorrectionService | None = None
    """Attribute corrections and patient merges; None in the research store (read-only)."""
    uploads: UploadService | None = None
    """Large uploads through the inbox (``wiring.large_objects``); None where not configured."""
    large_responses: LargeResponses | None = None
    """Redirects for WADO responses over the inline limit; None: everything streams."""
    inbox_worker: InboxWorker | None = None
    """The embedded server's in-process ingest of uploads."""
    research: Services | None = None
    """The de-identified research store, served under its own root (``cloudpacs.wiring.research``);
    None where this process has none."""
    deid_jobs: DeidJobs | None = None
    """De-identification jobs (the API side); None where no task queue is configured."""
    deid_worker: DeidWorker | None = None
    """De-identifies queued tasks; None where the research store or the key is absent."""
    deid_queue: TaskQueue | None = None
    retention: RetentionService | None = None
    """The retention job; None when ``retention_days`` is unset (studies are kept forever)."""

    @property
    def holds(self) -> LegalHolds:
        """Legal holds on this store's studies (stateless: built on each use)."""
        return LegalHolds(self.index)
