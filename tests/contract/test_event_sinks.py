"""EventSink adapters: in-process hooks (local) and EventBridge (AWS, under moto).

Both must deliver every published event, in order, with the body of
``InstanceEvent.detail()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cloudpacs.adapters.aws.eventbridge_events import EventBridgeEventSink, EventPublishFailed
from cloudpacs.adapters.local.hook_events import HookEventSink
from cloudpacs.security.events import EventSink, InstanceEvent, InstanceEventType

REGION = "eu-west-1"
BUS = "cloudpacs-test"
STUDY = "1.2.826.0.1.3680043.8.498.20"


def make_event(n: int, kind: InstanceEventType = InstanceEventType.STORED) -> InstanceEvent:
    return InstanceEvent(
        type=kind,
        study_uid=STUDY,
        series_uid=f"{STUDY}.1",
        sop_uid=f"{STUDY}.1.{n}",
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
        modality="CT",
        size=1000 + n,
    )


@dataclass
class Backend:
    sink: EventSink
    delivered: Callable[[], list[dict[str, Any]]]
    """(detail-type, detail) of what a consumer received, as dicts."""


@pytest.fixture
def hook_backend() -> Backend:
    sink = HookEventSink()
    received: list[dict[str, Any]] = []
    sink.subscribe(lambda e: received.append({"detail-type": e.type.value, "detail": e.detail()}))
    return Backend(sink, lambda: received)


@dataclass
class Aws:
    events: Any
    sqs: Any
    queue_url: str

    def drain(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return out
            for message in messages:
                body = json.loads(message["Body"])
                out.append(body)
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def aws() -> Iterator[Aws]:
    """A bus with a rule sending every cloudpacs event to an SQS queue (a consumer)."""
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events.create_event_bus(Name=BUS)
        queue_url = sqs.create_queue(QueueName="consumer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="to-consumer", EventBusName=BUS, EventPattern=json.dumps({"source": ["cloudpacs"]})
        )
        events.put_targets(
            Rule="to-consumer", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}]
        )
        yield Aws(events, sqs, queue_url)


@pytest.fixture
def eventbridge_backend(aws: Aws) -> Backend:
    return Backend(EventBridgeEventSink(BUS, client=aws.events), aws.drain)


@pytest.fixture(params=["hook", "eventbridge"])
def backend(request: pytest.FixtureRequest) -> Backend:
    backend: Backend = request.getfixturevalue(f"{request.param}_backend")
    return backend


# --- contract: both sinks ---------------------------------------------------------------


def by_id(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda d: str(d["detail"]["eventId"]))


def test_every_event_is_delivered(backend: Backend) -> None:
    """EventBridge does not promise order, so the contract compares sets of events."""
    events = [make_event(n) for n in range(3)] + [make_event(9, InstanceEventType.DELETED)]
    backend.sink.publish(events)
    expected = [{"detail-type": e.type.value, "detail": e.detail()} for e in events]
    delivered = [
        {"detail-type": d["detail-type"], "detail": d["detail"]} for d in backend.delivered()
    ]
    assert by_id(delivered) == by_id(expected)


def test_publishing_nothing_is_fine(backend: Backend) -> None:
    backend.sink.publish([])
    assert backend.delivered() == []


def test_more_than_one_batch(backend: Backend) -> None:
    events = [make_event(n) for n in range(23)]
    backend.sink.publish(events)
    delivered = sorted(d["detail"]["eventId"] for d in backend.delivered())
    assert delivered == sorted(e.event_id for e in events)


def test_hook_delivers_in_publish_order(hook_backend: Backend) -> None:
    events = [make_event(n) for n in range(5)]
    hook_backend.sink.publish(events)
    assert [d["detail"]["eventId"] for d in hook_backend.delivered()] == [
        e.event_id for e in events
    ]


# --- in-process hooks --------------------------------------------------------------------


def test_hook_failing_subscriber_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = HookEventSink()
    seen: list[str] = []

    def broken(event: InstanceEvent) -> None:
        raise RuntimeError("consumer down")

    sink.subscribe(broken)
    sink.subscribe(lambda e: seen.append(e.sop_uid))
    sink.publish([make_event(1), make_event(2)])
    assert seen == [f"{STUDY}.1.1", f"{STUDY}.1.2"]
    assert "event subscriber" in caplog.text


def test_hook_unsubscribe() -> None:
    sink = HookEventSink()
    seen: list[InstanceEvent] = []
    unsubscribe = sink.subscribe(seen.append)
    sink.publish([make_event(1)])
    unsubscribe()
    unsubscribe()  # twice is harmless
    sink.publish([make_event(2)])
    assert len(seen) == 1


# --- EventBridge -------------------------------------------------------------------------


def test_eventbridge_envelope(aws: Aws) -> None:
    EventBridgeEventSink(BUS, client=aws.events).publish([make_event(1)])
    (envelope,) = aws.drain()
    assert envelope["source"] == "cloudpacs"
    assert envelope["detail-type"] == "InstanceStored"
    assert envelope["detail"]["studyInstanceUID"] == STUDY


class Recording:
    """Wraps a client's put_events, optionally failing some entries."""

    def __init__(self, fail: Callable[[int, int], str | None] = lambda call, i: None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.fail = fail

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        call = len(self.calls)
        self.calls.append(Entries)
        results: list[dict[str, Any]] = []
        for i, _ in enumerate(Entries):
            code = self.fail(call, i)
            results.append({"ErrorCode": code, "ErrorMessage": "x"} if code else {"EventId": "e"})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def test_eventbridge_batches_of_ten() -> None:
    client = Recording()
    events = [make_event(n) for n in range(23)]
    EventBridgeEventSink(BUS, client=client).publish(events)
    assert [len(c) for c in client.calls] == [10, 10, 3]
    entry = client.calls[0][0]
    assert entry["Source"] == "cloudpacs"
    assert entry["EventBusName"] == BUS
    assert entry["DetailType"] == "InstanceStored"
    assert json.loads(entry["Detail"]) == events[0].detail()


def test_eventbridge_failed_entries_are_retried_once() -> None:
    client = Recording(
        fail=lambda call, i: "ThrottlingException" if call == 0 and i in (1, 4) else None
    )
    events = [make_event(n) for n in range(6)]
    EventBridgeEventSink(BUS, client=client).publish(events)
    assert len(client.calls) == 2
    retried = [json.loads(e["Detail"])["eventId"] for e in client.calls[1]]
    assert retried == [events[1].event_id, events[4].event_id]


def test_eventbridge_persistent_failure_raises_after_every_batch() -> None:
    client = Recording(fail=lambda call, i: "InternalFailure" if i == 0 else None)
    events = [make_event(n) for n in range(12)]
    with pytest.raises(EventPublishFailed, match="2 event") as info:
        EventBridgeEventSink(BUS, client=client).publish(events)
    assert [e.event_id for e, _ in info.value.failed] == [events[0].event_id, events[10].event_id]
    assert sum(len(c) for c in client.calls) == 12 + 2
