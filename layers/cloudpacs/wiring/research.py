"""Wiring of de-identification: the research store, jobs, the worker, auto mode.

- The research store holds the de-identified copies, apart from the archive: its own index
  (AWS: a second DynamoDB table with the archive's layout; locally ``research/index.sqlite3``)
  and its own objects (AWS: the ``research/`` prefix of the DICOM bucket, so IAM grants split
  on the prefix; locally ``research/objects``). It is served as a second ``Services`` under
  ``research_base_path``, read-only (QIDO-RS and WADO-RS routes only). Its ingest replaces a
  different copy under the same UIDs (a job re-run with other options) and publishes no change
  events: copies are not archive changes, and auto mode must not feed on its own output.
- Jobs (the API side) where a task queue is configured: AWS ``deid_queue_url`` (the
  ``deidentify`` function); locally always, through the in-process worker.
- The worker where the research store and the key are: AWS the anonymize function
  (``research_table_name`` and ``deid_secret_id``); locally always, key in ``deid_key_path``;
  with the pixel cleaning rules (``deid_pixel_rules_file``), the optional text detector and
  the audit sink.
- Auto mode (``auto_deidentify_profile``): locally an ingest hook queues each stored
  instance; in AWS the stack routes the ``InstanceStored`` events of the bus to the queue.

Jobs and the worker are wired by ``cloudpacs.wiring.deid``, imported only by a process that
has either (the de-identification engine is a large import that the other functions skip).
"""

from __future__ import annotations

from cloudpacs.ports import BlobStore, Index
from cloudpacs.security.events import NullEventSink
from cloudpacs.services.delete import DeleteService
from cloudpacs.services.ingest import IngestService
from cloudpacs.services.large_responses import LargeResponses, ResponseStaging
from cloudpacs.services.query import QueryService
from cloudpacs.services.retrieve import RetrieveService
from cloudpacs.settings import DuplicatePolicy, Settings
from cloudpacs.wiring.services import Services

RESEARCH_DUPLICATES: DuplicatePolicy = "replace"


def research_backend(settings: Settings) -> tuple[Index, BlobStore] | None:
    """The research store's index and objects, or None where this process has none."""
    if settings.backend == "aws":
        if not settings.research_table_name:
            return None
        from cloudpacs.adapters.aws.dynamo_index import DynamoIndex
        from cloudpacs.adapters.aws.s3_store import S3BlobStore

        assert settings.bucket_name
        return (
            DynamoIndex(settings.research_table_name),
            S3BlobStore(settings.bucket_name, prefix=settings.research_prefix),
        )
    from cloudpacs.adapters.local.file_store import FileBlobStore
    from cloudpacs.adapters.local.sqlite_index import SqliteIndex

    root = settings.data_dir / "research"
    root.mkdir(parents=True, exist_ok=True)
    return (
        SqliteIndex(root / "index.sqlite3", fsync=settings.fsync),
        FileBlobStore(root / "objects", fsync=settings.fsync),
    )


def research_services(archive: Services, backend: tuple[Index, BlobStore]) -> Services:
    """The research store as services of its own, rooted at ``research_base_path``."""
    settings = archive.settings
    index, blobs = backend
    rooted = settings.model_copy(
        update={
            "base_path": settings.research_base_path,
            "public_base_url": settings.research_public_base_url(),
            "duplicate_policy": RESEARCH_DUPLICATES,
            "auto_deidentify_profile": None,
        }
    )
    retrieve = RetrieveService(index, blobs)
    research = Services(
        settings=rooted,
        index=index,
        blobs=blobs,
        ingest=IngestService(
            index, blobs, duplicate_policy=RESEARCH_DUPLICATES, workers=settings.ingest_workers
        ),
        query=QueryService(index, max_results=settings.qido_max_results),
        retrieve=retrieve,
        delete=DeleteService(index, blobs),
        audit=archive.audit,
        audit_reader=archive.audit_reader,
        events=NullEventSink(),
    )
    if isinstance(blobs, ResponseStaging):
        research.large_responses = LargeResponses(
            blobs,
            retrieve,
            inline_limit=settings.inline_response_bytes,
            expires_in=settings.presign_expiry_seconds,
        )
    return research


def attach_deidentification(services: Services) -> None:
    """Give ``services`` what this process needs of de-identification (see above)."""
    settings = services.settings
    backend = research_backend(settings)
    services.research = research_services(services, backend) if backend else None
    if deidentifies(settings):
        from cloudpacs.wiring.deid import attach_jobs_and_worker

        attach_jobs_and_worker(services)


def deidentifies(settings: Settings) -> bool:
    """Whether this process runs de-identification jobs or the worker: always locally; in AWS
    where a task queue (jobs) or the research store and the key (the worker) are configured."""
    if settings.backend != "aws":
        return True
    worker = bool(settings.research_table_name and settings.deid_secret_id)
    return worker or bool(settings.deid_queue_url)
