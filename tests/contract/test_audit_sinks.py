"""AuditSink adapters: the JSON-lines file (local) and CloudWatch Logs (AWS, under moto).

Both must keep every event as exactly one JSON line equal to ``AuditEvent.to_json()``.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cloudpacs.adapters.aws.cloudwatch_audit import AuditWriteFailed, CloudWatchAuditSink
from cloudpacs.adapters.local.jsonl_audit import JsonlAuditSink
from cloudpacs.security.audit import (
    AuditEvent,
    AuditFilter,
    AuditSink,
    AuditUids,
    EntryPoint,
    Outcome,
    format_time,
)
from cloudpacs.security.identity import AuthMethod, Identity
from cloudpacs.security.permissions import Action, Role

REGION = "eu-west-1"
GROUP = "/cloudpacs/test/audit"
STUDY = "1.2.826.0.1.3680043.8.498.10"
ALICE = Identity(
    subject="s-1",
    username="alice",
    roles=frozenset({Role.VIEWER}),
    source_address="192.0.2.10",
    auth_method=AuthMethod.COGNITO_AUTHORIZER,
)


def make_event(n: int = 0, **overrides: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "identity": ALICE,
        "action": Action.RETRIEVE,
        "outcome": Outcome.SUCCESS,
        "status": 200,
        "entry_point": EntryPoint.DICOMWEB,
        "request_id": f"req-{n}",
        "uids": AuditUids(STUDY, f"{STUDY}.{n}"),
    }
    values.update(overrides)
    return AuditEvent.record(**values)


@dataclass
class Backend:
    sink: AuditSink
    stored_lines: Callable[[], list[str]]


@pytest.fixture
def jsonl_backend(tmp_path: Path) -> Iterator[Backend]:
    path = tmp_path / "audit" / "audit.jsonl"
    sink = JsonlAuditSink(path)
    yield Backend(sink, lambda: path.read_text("utf-8").splitlines())
    sink.close()


@pytest.fixture
def logs_client() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("logs", region_name=REGION)
        client.create_log_group(logGroupName=GROUP)
        yield client


def stream_lines(client: Any, stream: str) -> list[str]:
    events = client.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True)
    return [e["message"] for e in events["events"]]


@pytest.fixture
def cloudwatch_backend(logs_client: Any) -> Backend:
    sink = CloudWatchAuditSink(GROUP, stream_name="test/stream", client=logs_client)
    return Backend(sink, lambda: stream_lines(logs_client, "test/stream"))


@pytest.fixture(params=["jsonl", "cloudwatch"])
def backend(request: pytest.FixtureRequest) -> Backend:
    backend: Backend = request.getfixturevalue(f"{request.param}_backend")
    return backend


# --- contract: both sinks ---------------------------------------------------------------


def test_each_event_is_one_json_line(backend: Backend) -> None:
    events = [make_event(n) for n in range(5)]
    for event in events:
        backend.sink.emit(event)
    lines = backend.stored_lines()
    assert lines == [e.to_json() for e in events]
    assert [AuditEvent.from_dict(json.loads(line)) for line in lines] == events


def test_denied_and_anonymous_events_are_kept(backend: Backend) -> None:
    denied = make_event(1, action=Action.DELETE, outcome=Outcome.DENIED, status=403)
    anonymous = make_event(2, identity=None, outcome=Outcome.DENIED, status=401,
                           reason="token_expired", source_address="203.0.113.5")  # fmt: skip
    backend.sink.emit(denied)
    backend.sink.emit(anonymous)
    stored = [json.loads(line) for line in backend.stored_lines()]
    assert [(s["actor"], s["outcome"], s["status"]) for s in stored] == [
        ("alice", "denied", 403),
        ("anonymous", "denied", 401),
    ]


# --- JSON-lines file ---------------------------------------------------------------------


def test_jsonl_file_is_private_and_append_only(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(make_event(0).to_json() + "\n")
    sink = JsonlAuditSink(path)
    sink.emit(make_event(1))
    sink.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == ["req-0", "req-1"]
    created = tmp_path / "new.jsonl"
    JsonlAuditSink(created, fsync=False).close()
    assert stat.S_IMODE(os.stat(created).st_mode) == 0o600


def test_jsonl_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sinks = [JsonlAuditSink(path, fsync=False) for _ in range(2)]  # as two processes would
    per_thread = 200

    def work(t: int) -> None:
        for n in range(per_thread):
            sinks[t % 2].emit(make_event(n, request_id=f"t{t}-{n}"))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sink in sinks:
        sink.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 8 * per_thread
    ids = {AuditEvent.from_dict(json.loads(line)).request_id for line in lines}
    assert len(ids) == 8 * per_thread


def test_jsonl_read_filters(tmp_path: Path) -> None:
    sink = JsonlAuditSink(tmp_path / "audit.jsonl", fsync=False)
    start = datetime(2025, 5, 1, 8, tzinfo=UTC)
    rows = [
        ("alice", Action.RETRIEVE, Outcome.SUCCESS, STUDY),
        ("bob", Action.DELETE, Outcome.DENIED, STUDY),
        ("alice", Action.STORE, Outcome.FAILED, "1.2.3"),
        ("bob", Action.SEARCH, Outcome.SUCCESS, None),
    ]
    for hour, (actor, action, outcome, study) in enumerate(rows):
        identity = Identity(actor, actor, frozenset({Role.ADMIN}), None, AuthMethod.JWT)
        sink.emit(
            make_event(
                hour,
                identity=identity,
                action=action,
                outcome=outcome,
                uids=AuditUids(study),
                time=format_time(start + timedelta(hours=hour)),
            )
        )

    def ids(filters: AuditFilter | None = None, limit: int = 100) -> list[str | None]:
        return [e.request_id for e in sink.read(filters, limit)]

    assert ids() == ["req-3", "req-2", "req-1", "req-0"]
    assert ids(limit=1) == ["req-3"]
    assert ids(AuditFilter(actor="bob")) == ["req-3", "req-1"]
    assert ids(AuditFilter(action="delete")) == ["req-1"]
    assert ids(AuditFilter(outcome=Outcome.DENIED)) == ["req-1"]
    assert ids(AuditFilter(study_uid=STUDY)) == ["req-1", "req-0"]
    assert ids(AuditFilter(since=start + timedelta(hours=1))) == ["req-3", "req-2", "req-1"]
    assert ids(AuditFilter(until=start + timedelta(hours=1))) == ["req-0"]
    sink.close()


def test_jsonl_read_skips_torn_and_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path, fsync=False)
    sink.emit(make_event(0))
    with path.open("a") as handle:
        handle.write('{"not": "an event"}\n')
        handle.write("garbage\n")
    sink.emit(make_event(1))
    with path.open("a") as handle:
        handle.write('{"time": "2025-')  # torn by a crash mid-write
    assert [e.request_id for e in sink.read()] == ["req-1", "req-0"]
    sink.close()


def test_jsonl_read_of_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path)
    path.unlink()
    assert sink.read() == []
    sink.close()


# --- CloudWatch Logs ---------------------------------------------------------------------


def test_cloudwatch_stream_is_created_once_and_timestamps_follow_the_event(
    logs_client: Any,
) -> None:
    sink = CloudWatchAuditSink(GROUP, client=logs_client)
    events = [make_event(n) for n in range(3)]
    for event in events:
        sink.emit(event)
    streams = logs_client.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [sink.stream_name]
    stored = logs_client.get_log_events(
        logGroupName=GROUP, logStreamName=sink.stream_name, startFromHead=True
    )["events"]
    expected = [int(datetime.fromisoformat(e.time).timestamp() * 1000) for e in events]
    assert [e["timestamp"] for e in stored] == expected


def test_cloudwatch_existing_stream_is_reused(logs_client: Any) -> None:
    logs_client.create_log_stream(logGroupName=GROUP, logStreamName="shared")
    CloudWatchAuditSink(GROUP, stream_name="shared", client=logs_client).emit(make_event(0))
    CloudWatchAuditSink(GROUP, stream_name="shared", client=logs_client).emit(make_event(1))
    assert len(stream_lines(logs_client, "shared")) == 2


def test_cloudwatch_default_stream_name_names_the_function(
    logs_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "cloudpacs-dev-wado")
    sink = CloudWatchAuditSink(GROUP, client=logs_client)
    assert "/cloudpacs-dev-wado/" in sink.stream_name
    assert sink.stream_name != CloudWatchAuditSink(GROUP, client=logs_client).stream_name


def test_cloudwatch_missing_group_fails_loudly(logs_client: Any) -> None:
    sink = CloudWatchAuditSink("/cloudpacs/missing", client=logs_client)
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException):
        sink.emit(make_event(0))


def test_cloudwatch_rejected_record_raises() -> None:
    class Rejecting:
        class exceptions:
            ResourceAlreadyExistsException = KeyError

        def create_log_stream(self, **kwargs: Any) -> None:
            return None

        def put_log_events(self, **kwargs: Any) -> dict[str, Any]:
            return {"rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 0}}

    sink = CloudWatchAuditSink(GROUP, stream_name="s", client=Rejecting())
    with pytest.raises(AuditWriteFailed, match="rejected"):
        sink.emit(make_event(0))
