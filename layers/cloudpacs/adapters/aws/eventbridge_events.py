"""AWS event sink: ``PutEvents`` on a named EventBridge bus.

Source ``cloudpacs``, detail-type the event type (``InstanceStored`` / ``InstanceDeleted``),
detail the JSON of ``InstanceEvent.detail()``, resources empty. ``PutEvents`` takes at most 10
entries a call, so events are sent in batches of 10. Entries EventBridge reports as failed
(throttling, internal errors) are retried once; if any still fail, ``EventPublishFailed`` says
how many, after every batch has been tried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import boto3

from cloudpacs.security.events import EVENT_SOURCE, InstanceEvent

MAX_ENTRIES_PER_CALL = 10


class EventPublishFailed(RuntimeError):
    def __init__(self, failed: list[tuple[InstanceEvent, str]]) -> None:
        self.failed = failed
        codes = sorted({code for _, code in failed})
        super().__init__(f"{len(failed)} event(s) not accepted by EventBridge: {', '.join(codes)}")


class EventBridgeEventSink:
    def __init__(
        self,
        bus_name: str,
        *,
        source: str = EVENT_SOURCE,
        client: Any | None = None,
        region_name: str | None = None,
    ) -> None:
        self.bus_name = bus_name
        self.source = source
        self._given = client
        self._region = region_name

    @cached_property
    def _client(self) -> Any:
        # Made on first publish: functions that never store (qido, wado) do not pay for
        # the client at cold start (~40 ms to load the service model).
        return self._given or boto3.client("events", region_name=self._region)

    def publish(self, events: Sequence[InstanceEvent]) -> None:
        failed: list[tuple[InstanceEvent, str]] = []
        for start in range(0, len(events), MAX_ENTRIES_PER_CALL):
            batch = list(events[start : start + MAX_ENTRIES_PER_CALL])
            retry = [event for event, _ in self._put(batch)]
            if retry:
                failed.extend(self._put(retry))
        if failed:
            raise EventPublishFailed(failed)

    def _put(self, batch: list[InstanceEvent]) -> list[tuple[InstanceEvent, str]]:
        response = self._client.put_events(Entries=[self._entry(e) for e in batch])
        if not response.get("FailedEntryCount"):
            return []
        return [
            (event, result.get("ErrorCode", "unknown"))
            for event, result in zip(batch, response["Entries"], strict=True)
            if "ErrorCode" in result
        ]

    def _entry(self, event: InstanceEvent) -> dict[str, Any]:
        return {
            "Source": self.source,
            "DetailType": event.type.value,
            "Detail": json.dumps(event.detail(), separators=(",", ":")),
            "EventBusName": self.bus_name,
        }
