"""The retention job on both backends: studies past the period go through the delete service
(objects, index entries, ``InstanceDeleted`` events, one audit event per study in the job's
name); recent and held studies stay (docs/lifecycle.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cloudpacs.keys import instance_key
from cloudpacs.runtime import Services, build_services
from cloudpacs.security.audit import MemoryAuditSink
from cloudpacs.security.events import InstanceEvent, InstanceEventType
from cloudpacs.settings import load_settings
from tests.support.lifecycle import backdate
from tests.support.synthetic import ct_study

from .conftest import Adapters


class RecordedEvents:
    """Keeps the ``InstanceDeleted`` events (ingest publishes ``InstanceStored`` too)."""

    def __init__(self) -> None:
        self.events: list[InstanceEvent] = []

    def publish(self, events: Sequence[InstanceEvent]) -> None:
        self.events.extend(e for e in events if e.type is InstanceEventType.DELETED)


def _services(adapters: Adapters, audit: MemoryAuditSink, events: RecordedEvents) -> Services:
    return build_services(
        load_settings(fsync=False, retention_days=30),
        backend=(adapters.index, adapters.blobs),
        audit=(audit, audit),
        events=events,
    )


def _store(services: Services, instances: int) -> str:
    study, objects = ct_study(instances, rows=8, columns=8)
    for data in objects:
        assert services.ingest.store(data).ok
    return study


def test_retention_deletes_what_is_due_and_keeps_the_rest(adapters: Adapters) -> None:
    audit, events = MemoryAuditSink(), RecordedEvents()
    services = _services(adapters, audit, events)
    old, held, recent = _store(services, 2), _store(services, 1), _store(services, 1)
    backdate(services.index, old)
    backdate(services.index, held)
    services.holds.place(held, "case 12", by="alice")
    old_keys = [
        instance_key(r.study_uid, r.series_uid, r.sop_uid)
        for r in services.index.study_partition(old).instances  # type: ignore[union-attr]
    ]
    job = services.retention
    assert job is not None

    dry = job.run(dry_run=True)
    assert (dry.deleted, dry.held, dry.failed) == ([old], [held], [])
    assert services.index.get_study(old) is not None and events.events == [] == audit.events

    report = job.run()
    assert (report.deleted, report.held, report.instances, report.complete) == (
        [old], [held], 2, True
    )  # fmt: skip
    assert services.index.get_study(old) is None
    assert all(services.blobs.head(key) is None for key in old_keys)
    assert services.index.get_study(held) is not None
    assert services.index.get_study(recent) is not None
    assert [(e.type, e.study_uid) for e in events.events] == [
        (InstanceEventType.DELETED, old),
        (InstanceEventType.DELETED, old),
    ]
    assert [(e.actor, e.action, e.entry_point.value, e.study_uid, e.instance_count) for e in
            audit.events] == [("retention", "delete", "retention", old, 2)]  # fmt: skip
    assert audit.events[0].reason == "retention_period"


def test_a_released_study_is_due_at_the_next_run(adapters: Adapters) -> None:
    audit, events = MemoryAuditSink(), RecordedEvents()
    services = _services(adapters, audit, events)
    held = _store(services, 1)
    backdate(services.index, held)
    services.holds.place(held, "case 12", by="alice")
    job = services.retention
    assert job is not None
    assert job.run().held == [held]
    services.holds.release(held)
    assert job.run().deleted == [held]


def test_a_run_can_stop_early_and_the_next_one_continues(adapters: Adapters) -> None:
    audit, events = MemoryAuditSink(), RecordedEvents()
    services = _services(adapters, audit, events)
    studies = [_store(services, 1) for _ in range(3)]
    for study in studies:
        backdate(services.index, study)
    job = services.retention
    assert job is not None
    budget = iter([True, False])
    first = job.run(should_continue=lambda: next(budget, False))
    assert len(first.deleted) == 1 and first.complete is False
    second = job.run(now=datetime.now(UTC))
    assert sorted(first.deleted + second.deleted) == sorted(studies) and second.complete
