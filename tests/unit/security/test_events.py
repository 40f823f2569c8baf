"""Instance change events: schema and validation (DESIGN.md §7)."""

from __future__ import annotations

import json

import pytest

from cloudpacs.model import InstanceRecord
from cloudpacs.security.events import InstanceEvent, InstanceEventType, NullEventSink

STUDY, SERIES, SOP = "1.2.3", "1.2.3.4", "1.2.3.4.5"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def stored(**overrides: object) -> InstanceEvent:
    values: dict[str, object] = {
        "type": InstanceEventType.STORED,
        "study_uid": STUDY,
        "series_uid": SERIES,
        "sop_uid": SOP,
        "sop_class_uid": CT_IMAGE,
        "modality": "CT",
        "size": 524_288,
        "time": "2025-03-01T10:00:00.000Z",
    }
    values.update(overrides)
    return InstanceEvent(**values)  # type: ignore[arg-type]


def test_detail_schema() -> None:
    event = stored()
    assert event.detail() == {
        "version": 1,
        "eventId": event.event_id,
        "type": "InstanceStored",
        "time": "2025-03-01T10:00:00.000Z",
        "studyInstanceUID": STUDY,
        "seriesInstanceUID": SERIES,
        "sopInstanceUID": SOP,
        "sopClassUID": CT_IMAGE,
        "modality": "CT",
        "size": 524_288,
    }
    json.dumps(event.detail())


def test_detail_round_trip() -> None:
    event = stored(type="InstanceDeleted", modality=None, size=None)
    assert event.type is InstanceEventType.DELETED
    assert InstanceEvent.from_detail(event.detail()) == event


def test_event_ids_are_unique() -> None:
    assert stored().event_id != stored().event_id


def test_for_record() -> None:
    record = InstanceRecord(
        study_uid=STUDY,
        series_uid=SERIES,
        sop_uid=SOP,
        sop_class_uid=CT_IMAGE,
        transfer_syntax_uid="1.2.840.10008.1.2.1",
        sha256="0" * 64,
        size=1234,
        attrs={"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]}},
        header_length=512,
    )
    event = InstanceEvent.for_record(InstanceEventType.DELETED, record, modality="MR")
    assert (event.study_uid, event.series_uid, event.sop_uid) == (STUDY, SERIES, SOP)
    assert (event.sop_class_uid, event.modality, event.size) == (CT_IMAGE, "MR", 1234)
    assert "Doe" not in json.dumps(event.detail())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "InstanceMoved"),
        ("study_uid", "Doe^Jane"),
        ("series_uid", ""),
        ("sop_uid", "1..2"),
        ("sop_class_uid", "CT Image"),
        ("modality", "Head CT"),
        ("size", -1),
        ("time", "now"),
    ],
)
def test_invalid_fields(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        stored(**{field: value})


def test_null_sink_accepts_everything() -> None:
    NullEventSink().publish([stored(), stored()])
