"""Composition root: builds the services on the backend the settings name.

Every runtime (local server, Lambda handlers, DIMSE bridge) gets its services here, so
each wires the same core the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudpacs.ports import BlobStore, Index
from cloudpacs.services.delete import DeleteService
from cloudpacs.services.ingest import IngestService
from cloudpacs.services.query import QueryService
from cloudpacs.services.retrieve import RetrieveService
from cloudpacs.settings import Settings


@dataclass
class Services:
    settings: Settings
    index: Index
    blobs: BlobStore
    ingest: IngestService
    query: QueryService
    retrieve: RetrieveService
    delete: DeleteService


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


def build_services(settings: Settings, backend: tuple[Index, BlobStore] | None = None) -> Services:
    index, blobs = backend if backend is not None else build_backend(settings)
    return Services(
        settings=settings,
        index=index,
        blobs=blobs,
        ingest=IngestService(index, blobs, duplicate_policy=settings.duplicate_policy),
        query=QueryService(index, max_results=settings.qido_max_results),
        retrieve=RetrieveService(index, blobs),
        delete=DeleteService(index, blobs),
    )
