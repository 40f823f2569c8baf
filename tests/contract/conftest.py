"""One contract, two backends (DESIGN.md §2): every test taking ``adapters`` runs twice.

- ``embedded``: SQLite index + local files (skipped while those adapters are not importable);
- ``aws``: DynamoDB + S3 adapters on moto, table built from ``table_schema``.

On the AWS side every botocore call is recorded (``AwsCalls``) and a ``Scan`` fails the test
at once: no supported operation may scan the table. moto is not thread-safe, so each AWS
request is made atomic with a lock, as each request is on the real service; concurrent
writers still interleave between requests.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cloudpacs.adapters.aws.table_schema import create_table_kwargs
from cloudpacs.adapters.local.file_store import FileBlobStore
from cloudpacs.adapters.local.sqlite_index import SqliteIndex
from cloudpacs.ports import BlobStore, Index

REGION = "us-east-1"
TABLE = "cloudpacs-contract"
BUCKET = "cloudpacs-contract-objects"


class ScanForbidden(AssertionError):
    pass


@dataclass
class AwsCalls:
    """Counts botocore operations by name; ``Scan`` is refused before it is sent."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def attach(self, client: Any) -> Any:
        events = client.meta.events
        events.register("before-call", self._before)
        events.register("after-call", self._after)
        events.register("after-call-error", self._after)
        return client

    def _before(self, model: Any, **_: Any) -> None:
        if model.name == "Scan":
            raise ScanForbidden("the index must never Scan the table")
        self.lock.acquire()
        self.counts[model.name] += 1

    def _after(self, **_: Any) -> None:
        self.lock.release()

    def reset(self) -> None:
        self.counts.clear()

    def writes(self) -> int:
        """DynamoDB write requests, successful or cancelled by a condition."""
        names = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
        return sum(self.counts[n] for n in names)


@dataclass
class Adapters:
    name: str
    index: Index
    blobs: BlobStore
    open_index: Callable[[], Index]
    """Another handle on the same index, as another process or Lambda would hold."""
    calls: AwsCalls | None = None


@pytest.fixture
def aws_adapters(monkeypatch: pytest.MonkeyPatch) -> Iterator[Adapters]:
    from cloudpacs.adapters.aws.dynamo_index import DynamoIndex
    from cloudpacs.adapters.aws.s3_store import SIGV4, S3BlobStore

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    calls = AwsCalls()
    with mock_aws():

        def dynamodb() -> Any:
            return calls.attach(boto3.client("dynamodb", region_name=REGION))

        s3 = calls.attach(boto3.client("s3", region_name=REGION, config=SIGV4))
        dynamodb().create_table(**create_table_kwargs(TABLE))
        s3.create_bucket(Bucket=BUCKET)
        calls.reset()
        yield Adapters(
            name="aws",
            index=DynamoIndex(TABLE, client=dynamodb()),
            blobs=S3BlobStore(BUCKET, client=s3),
            open_index=lambda: DynamoIndex(TABLE, client=dynamodb()),
            calls=calls,
        )


@pytest.fixture
def embedded_adapters(tmp_path: Path) -> Adapters:
    db = tmp_path / "index.sqlite3"
    return Adapters(
        name="embedded",
        index=SqliteIndex(db, fsync=False),
        blobs=FileBlobStore(tmp_path / "objects", fsync=False),
        open_index=lambda: SqliteIndex(db, fsync=False),
    )


@pytest.fixture(params=["embedded", "aws"])
def adapters(request: pytest.FixtureRequest) -> Adapters:
    chosen: Adapters = request.getfixturevalue(f"{request.param}_adapters")
    return chosen
