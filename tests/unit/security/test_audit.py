"""Audit events: schema, validation, filters, and no PHI beyond UIDs (DESIGN.md §7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from cloudpacs.security.audit import (
    ANONYMOUS,
    AuditEvent,
    AuditFilter,
    AuditUids,
    EntryPoint,
    MemoryAuditSink,
    Outcome,
    format_time,
    reason_for_status,
    utc_now,
)
from cloudpacs.security.identity import AuthMethod, Identity
from cloudpacs.security.permissions import Action, Role

STUDY, SERIES, SOP = "1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.2", "1.2.3.4.5"
ALICE = Identity(
    subject="sub-1",
    username="alice",
    roles=frozenset({Role.VIEWER, Role.TECHNOLOGIST}),
    source_address="198.51.100.4",
    auth_method=AuthMethod.JWT,
)

PHI = {
    "PatientName": "Doe^Jane",
    "PatientID": "MRN-0042-SECRET",
    "PatientBirthDate": "19510704",
    "AccessionNumber": "ACC-77123",
    "StudyDescription": "CT HEAD TRAUMA",
    "ReferringPhysicianName": "House^Gregory",
}

DICOM_JSON: dict[str, dict[str, Any]] = {
    "00100010": {"vr": "PN", "Value": [{"Alphabetic": PHI["PatientName"]}]},
    "00100020": {"vr": "LO", "Value": [PHI["PatientID"]]},
    "00100030": {"vr": "DA", "Value": [PHI["PatientBirthDate"]]},
    "00080050": {"vr": "SH", "Value": [PHI["AccessionNumber"]]},
    "00081030": {"vr": "LO", "Value": [PHI["StudyDescription"]]},
    "00080090": {"vr": "PN", "Value": [{"Alphabetic": PHI["ReferringPhysicianName"]}]},
    "0020000D": {"vr": "UI", "Value": [STUDY]},
    "0020000E": {"vr": "UI", "Value": [SERIES]},
    "00080018": {"vr": "UI", "Value": [SOP]},
}


def event(**overrides: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "time": "2025-03-01T10:00:00.000Z",
        "actor": "alice",
        "roles": ("technologist", "viewer"),
        "source_address": "198.51.100.4",
        "action": "retrieve",
        "outcome": Outcome.SUCCESS,
        "status": 200,
        "request_id": "req-1",
        "entry_point": EntryPoint.DICOMWEB,
        "study_uid": STUDY,
    }
    values.update(overrides)
    return AuditEvent(**values)


def test_record_from_identity() -> None:
    recorded = AuditEvent.record(
        ALICE,
        Action.STORE,
        Outcome.SUCCESS,
        200,
        entry_point=EntryPoint.DICOMWEB,
        request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        uids=AuditUids(STUDY, SERIES, SOP),
        instance_count=1,
    )
    data = recorded.to_dict()
    assert data["actor"] == "alice"
    assert data["roles"] == ["technologist", "viewer"]
    assert data["source_address"] == "198.51.100.4"
    assert data["action"] == "store"
    assert data["outcome"] == "success"
    assert data["entry_point"] == "dicomweb"
    assert data["auth_method"] == "jwt"
    assert (data["study_uid"], data["series_uid"], data["sop_uid"]) == (STUDY, SERIES, SOP)
    assert data["version"] == 1
    assert len(data["event_id"]) == 32
    assert datetime.fromisoformat(data["time"]).tzinfo is not None


def test_record_of_an_unauthenticated_request() -> None:
    recorded = AuditEvent.record(
        None,
        Action.SEARCH,
        Outcome.DENIED,
        401,
        entry_point=EntryPoint.DICOMWEB,
        source_address="203.0.113.9",
        reason="token_expired",
    )
    assert recorded.actor == ANONYMOUS
    assert recorded.roles == ()
    assert recorded.auth_method is None
    assert recorded.source_address == "203.0.113.9"


def test_dimse_status_codes_fit() -> None:
    assert event(entry_point="dimse", status=0xA801, outcome="failed").status == 0xA801


def test_json_round_trip() -> None:
    original = event(series_uid=SERIES, sop_uid=SOP, instance_count=3, reason="not_found")
    line = original.to_json()
    assert "\n" not in line
    assert AuditEvent.from_dict(json.loads(line)) == original


def test_unknown_keys_of_a_later_schema_are_ignored() -> None:
    data = event().to_dict() | {"new_field": 1}
    assert AuditEvent.from_dict(data) == event(event_id=data["event_id"])


def test_time_format() -> None:
    assert format_time(datetime(2025, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)) == (
        "2025-01-02T03:04:05.678Z"
    )
    assert format_time(datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == (
        "2025-01-02T03:04:05.000Z"
    )
    assert utc_now().endswith("Z")
    with pytest.raises(ValueError):
        format_time(datetime(2025, 1, 2))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time", "yesterday"),
        ("time", "2025-03-01T10:00:00"),  # no zone
        ("actor", ""),
        ("actor", "alice\nforged line"),
        ("roles", ("superuser",)),
        ("action", "Retrieve Study"),
        ("status", 70000),
        ("status", -1),
        ("study_uid", "Doe^Jane"),
        ("series_uid", "1.2.abc"),
        ("sop_uid", "1." + "2" * 80),
        ("source_address", "10.0.0.1 evil"),
        ("request_id", "has space"),
        ("reason", "Patient Doe^Jane not found"),
        ("outcome", "maybe"),
        ("entry_point", "ftp"),
        ("instance_count", -2),
    ],
)
def test_invalid_fields_are_refused(field: str, value: Any) -> None:
    with pytest.raises(ValueError) as info:
        event(**{field: value})
    assert "Doe" not in str(info.value)


def test_events_are_immutable_and_closed() -> None:
    recorded = event()
    with pytest.raises(AttributeError):
        recorded.actor = "mallory"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event(patient_name="Doe^Jane")


def test_no_phi_from_a_dicom_json_dataset() -> None:
    """Building an event from a dataset-derived context carries the UIDs and nothing else."""
    uids = AuditUids.from_dicom_json(DICOM_JSON)
    assert uids == AuditUids(STUDY, SERIES, SOP)
    recorded = AuditEvent.record(
        ALICE, Action.STORE, Outcome.SUCCESS, 200, entry_point=EntryPoint.DICOMWEB, uids=uids
    )
    line = recorded.to_json()
    for value in PHI.values():
        assert value not in line
        for part in value.split("^"):
            assert part not in line
    assert set(json.loads(line)) == {
        "time", "actor", "roles", "source_address", "action", "outcome", "status",
        "request_id", "entry_point", "study_uid", "series_uid", "sop_uid",
        "instance_count", "reason", "auth_method", "previous", "event_id", "version",
    }  # fmt: skip
    assert json.loads(line)["previous"] is None  # only corrections keep previous values


def test_no_phi_from_a_pydicom_dataset() -> None:
    dataset = SimpleNamespace(
        StudyInstanceUID=STUDY, SeriesInstanceUID=SERIES, SOPInstanceUID=SOP, **PHI
    )
    uids = AuditUids.from_dataset(dataset)
    assert uids == AuditUids(STUDY, SERIES, SOP)
    line = AuditEvent.record(
        ALICE, Action.RETRIEVE, Outcome.SUCCESS, 200, entry_point=EntryPoint.DIMSE, uids=uids
    ).to_json()
    assert not any(value in line for value in PHI.values())


def test_a_dataset_with_a_phi_value_in_a_uid_slot_cannot_be_recorded() -> None:
    broken = {**DICOM_JSON, "0020000D": {"vr": "UI", "Value": ["Doe^Jane"]}}
    with pytest.raises(ValueError) as info:
        AuditEvent.record(
            ALICE,
            Action.STORE,
            Outcome.FAILED,
            409,
            entry_point=EntryPoint.DICOMWEB,
            uids=AuditUids.from_dicom_json(broken),
        )
    assert "Doe" not in str(info.value)


def test_dataset_without_uids() -> None:
    assert AuditUids.from_dicom_json({"0020000D": {"vr": "UI"}}) == AuditUids()
    assert AuditUids.from_dataset(SimpleNamespace()) == AuditUids()


def test_filters() -> None:
    sink = MemoryAuditSink()
    base = datetime(2025, 3, 1, 10, tzinfo=UTC)
    for minute, actor, action, outcome in [
        (0, "alice", "retrieve", "success"),
        (1, "bob", "delete", "denied"),
        (2, "alice", "store", "failed"),
        (3, "alice", "retrieve", "success"),
        (4, "bob", "search", "success"),
    ]:
        sink.emit(
            event(
                time=format_time(base + timedelta(minutes=minute)),
                actor=actor,
                action=action,
                outcome=outcome,
                study_uid=STUDY if minute % 2 == 0 else SOP,
            )
        )

    def minutes(filters: AuditFilter | None = None, limit: int = 100) -> list[int]:
        return [int(e.time[14:16]) for e in sink.read(filters, limit)]

    assert minutes() == [4, 3, 2, 1, 0]  # newest first
    assert minutes(limit=2) == [4, 3]
    assert minutes(limit=0) == []
    assert minutes(AuditFilter(actor="alice")) == [3, 2, 0]
    assert minutes(AuditFilter(action="retrieve")) == [3, 0]
    assert minutes(AuditFilter(outcome=Outcome.DENIED)) == [1]
    assert minutes(AuditFilter(study_uid=STUDY)) == [4, 2, 0]
    window = AuditFilter(since=base + timedelta(minutes=1), until=base + timedelta(minutes=3))
    assert minutes(window) == [2, 1]
    assert minutes(AuditFilter(actor="alice", study_uid=STUDY)) == [2, 0]


@pytest.mark.parametrize(
    ("status", "code"),
    [(200, None), (204, None), (401, "unauthenticated"), (403, "forbidden"),
     (404, "not_found"), (418, "client_error"), (502, "internal_error")],
)  # fmt: skip
def test_reason_for_status(status: int, code: str | None) -> None:
    assert reason_for_status(status) == code
    if code:
        event(reason=code)
