"""Stored and deleted instances publish events through the EventSink port (issue: events on
change), carrying the UIDs, SOP class and modality that subscribers filter on."""

from __future__ import annotations

from pathlib import Path

from cloudpacs.adapters.local.hook_events import HookEventSink
from cloudpacs.runtime import build_services
from cloudpacs.security.events import InstanceEvent, InstanceEventType
from cloudpacs.settings import load_settings
from tests.support.synthetic import ct_study


def test_store_and_delete_publish_events_with_modality(tmp_path: Path) -> None:
    sink = HookEventSink()
    seen: list[InstanceEvent] = []
    sink.subscribe(seen.append)
    services = build_services(load_settings(data_dir=tmp_path, fsync=False), events=sink)
    study_uid, objects = ct_study(2, rows=8, columns=8)
    assert all(o.ok for o in services.ingest.store_many(objects))
    assert services.ingest.store(objects[0]).ok  # idempotent: publishes nothing more
    stored = [e for e in seen if e.type is InstanceEventType.STORED]
    assert len(stored) == 2
    assert {e.modality for e in stored} == {"CT"}
    assert {e.study_uid for e in stored} == {study_uid}
    services.delete.delete(study_uid)
    assert [e.type for e in seen].count(InstanceEventType.DELETED) == 2
