"""De-identification's ports on both backends: the job ledger (JSON files | items in
the index table), and the research store kept apart from the archive (a second SQLite file and
folder | a second table and the ``research/`` prefix of the same bucket)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cloudpacs.adapters.aws.dynamo_jobs import DynamoJobLedger
from cloudpacs.adapters.aws.table_schema import create_table_kwargs
from cloudpacs.adapters.local.file_jobs import FileJobLedger
from cloudpacs.keys import instance_key
from cloudpacs.model import StudyKeys
from cloudpacs.ports import BlobStore, Index
from cloudpacs.services.deid_model import (
    InstanceResult,
    JobLedger,
    JobRecord,
    JobState,
    Outcome,
    ProfileSpec,
)
from cloudpacs.services.ingest import IngestService
from tests.support.synthetic import ct_study

from .conftest import BUCKET, REGION, TABLE, AwsCalls
from .records import uid as u

RESEARCH_TABLE = "cloudpacs-contract-research"


@dataclass
class Backend:
    name: str
    ledger: JobLedger
    archive: tuple[Index, BlobStore]
    research: tuple[Index, BlobStore]
    calls: AwsCalls | None = None


@pytest.fixture
def aws_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    from cloudpacs.adapters.aws.dynamo_index import DynamoIndex
    from cloudpacs.adapters.aws.s3_store import SIGV4, S3BlobStore

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    calls = AwsCalls()
    with mock_aws():
        dynamodb: Any = calls.attach(boto3.client("dynamodb", region_name=REGION))
        s3 = calls.attach(boto3.client("s3", region_name=REGION, config=SIGV4))
        for table in (TABLE, RESEARCH_TABLE):
            dynamodb.create_table(**create_table_kwargs(table))
        s3.create_bucket(Bucket=BUCKET)
        calls.reset()
        yield Backend(
            "aws",
            DynamoJobLedger(TABLE, record_days=1, client=dynamodb),
            (DynamoIndex(TABLE, client=dynamodb), S3BlobStore(BUCKET, client=s3)),
            (
                DynamoIndex(RESEARCH_TABLE, client=dynamodb),
                S3BlobStore(BUCKET, client=s3, prefix="research/"),
            ),
            calls,
        )


@pytest.fixture
def embedded_backend(tmp_path: Path) -> Backend:
    from cloudpacs.adapters.local.file_store import FileBlobStore
    from cloudpacs.adapters.local.sqlite_index import SqliteIndex

    def store(root: Path) -> tuple[Index, BlobStore]:
        return SqliteIndex(root / "index.sqlite3", fsync=False), FileBlobStore(
            root / "objects", fsync=False
        )

    return Backend(
        "embedded", FileJobLedger(tmp_path / "jobs"), store(tmp_path), store(tmp_path / "research")
    )


@pytest.fixture(params=["embedded", "aws"])
def backend(request: pytest.FixtureRequest) -> Backend:
    chosen: Backend = request.getfixturevalue(f"{request.param}_backend")
    return chosen


def _record(job_id: str, total: int) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        study_uid=u(90),
        profile=ProfileSpec("basic", {"retain_uids": True}),
        profile_name="basic+retain_uids",
        total=total,
        created_at="2026-11-23T10:00:00+00:00",
        expires_at=int(time.time()) + 3600,
        owner="ann",
    )


def _result(n: int, outcome: Outcome = Outcome.DEIDENTIFIED) -> InstanceResult:
    return InstanceResult(
        u(90, 1),
        u(90, 1, n),
        outcome,
        code=None if outcome is Outcome.DEIDENTIFIED else "not_part10",
        research_study_uid=f"2.25.{n}" if outcome is Outcome.DEIDENTIFIED else None,
    )


def test_a_job_reads_back_as_written(backend: Backend) -> None:
    record = _record("a" * 32, 3)
    backend.ledger.create(record)
    status = backend.ledger.get(record.job_id)
    assert status is not None
    assert status.record == record and status.results == ()
    assert status.state is JobState.QUEUED
    assert backend.ledger.get("b" * 32) is None


def test_a_job_cannot_be_created_twice(backend: Backend) -> None:
    record = _record("c" * 32, 1)
    backend.ledger.create(record)
    with pytest.raises(Exception):  # noqa: B017 - FileExistsError | ConditionalCheckFailed
        backend.ledger.create(record)


def test_results_count_once_however_often_they_are_written(backend: Backend) -> None:
    record = _record("d" * 32, 3)
    backend.ledger.create(record)
    backend.ledger.record(record.job_id, [_result(1), _result(2, Outcome.FAILED)])
    running = backend.ledger.get(record.job_id)
    assert running is not None and running.state is JobState.RUNNING
    backend.ledger.record(record.job_id, [_result(2), _result(3)])  # a repeated delivery
    done = backend.ledger.get(record.job_id)
    assert done is not None
    assert len(done.results) == 3
    assert done.state is JobState.COMPLETED
    assert done.count(Outcome.FAILED) == 0  # the later result replaced the earlier one
    assert done.research_study_uid is not None


def test_many_results_are_all_read_back(backend: Backend) -> None:
    record = _record("e" * 32, 260)
    backend.ledger.create(record)
    backend.ledger.record(record.job_id, [_result(n) for n in range(1, 261)])
    status = backend.ledger.get(record.job_id)
    assert status is not None and len(status.results) == 260
    assert status.state is JobState.COMPLETED


def test_a_job_that_could_not_start_is_failed(backend: Backend) -> None:
    record = _record("f" * 32, 2)
    backend.ledger.create(record)
    backend.ledger.fail(record.job_id, "the job's tasks could not be queued")
    status = backend.ledger.get(record.job_id)
    assert status is not None
    assert status.state is JobState.FAILED
    assert status.record.error == "the job's tasks could not be queued"
    backend.ledger.fail("0" * 32, "no such job")  # absent: nothing happens
    assert backend.ledger.get("0" * 32) is None


def test_only_quarantined_or_failed_instances_make_a_failed_job(backend: Backend) -> None:
    record = _record("1" * 32, 2)
    backend.ledger.create(record)
    backend.ledger.record(
        record.job_id, [_result(1, Outcome.QUARANTINED), _result(2, Outcome.FAILED)]
    )
    status = backend.ledger.get(record.job_id)
    assert status is not None and status.state is JobState.FAILED


def test_the_quarantine_report_reads_back_with_rules_and_counts(backend: Backend) -> None:
    """Clean Pixel Data: each quarantined instance keeps its rule and pixel rule."""
    record = _record("2" * 32, 4)
    backend.ledger.create(record)
    cleaned = replace(_result(1), pixel_rule="acuson-sequoia-640x480")
    unmatched = [replace(_result(n, Outcome.QUARANTINED), code="no_cleaning_rule") for n in (2, 3)]
    text = replace(_result(4, Outcome.QUARANTINED), code="text_after_cleaning", pixel_rule="us-top")
    backend.ledger.record(record.job_id, [cleaned, *unmatched, text])
    status = backend.ledger.get(record.job_id)
    assert status is not None
    assert {r.sop_uid: r for r in status.results}[cleaned.sop_uid] == cleaned
    report = status.quarantine_report()
    assert report.instances == (*unmatched, text)
    assert report.by_rule == {"no_cleaning_rule": 2, "text_after_cleaning": 1}


def test_the_research_store_and_the_archive_do_not_see_each_other(backend: Backend) -> None:
    """The same instance in both stores: separate entries, separate objects, separate lists."""
    study, objects = ct_study(2, rows=8, columns=8)
    archive = IngestService(*backend.archive)
    research = IngestService(*backend.research, duplicate_policy="replace")
    first = archive.store(objects[0])
    assert first.ok and first.record is not None
    assert research.store(objects[1]).ok
    archive_index, archive_blobs = backend.archive
    research_index, research_blobs = backend.research
    assert [s.instance_count for s in archive_index.find_studies(StudyKeys())] == [1]
    assert [s.instance_count for s in research_index.find_studies(StudyKeys())] == [1]
    rec = first.record
    key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
    assert research_index.get_instance(rec.study_uid, rec.series_uid, rec.sop_uid) is None
    assert research_blobs.head(key) is None
    assert len(list(archive_blobs.list_keys("studies/"))) == 1
    assert len(list(research_blobs.list_keys("studies/"))) == 1
    same = research.store(objects[0])
    assert same.ok
    assert hashlib.sha256(research_blobs.get(key)).hexdigest() == rec.sha256
    assert archive_index.get_instance(rec.study_uid, rec.series_uid, rec.sop_uid) is not None
    assert study == rec.study_uid
    if backend.calls is not None:
        assert backend.calls.counts["Scan"] == 0
