"""Corrections over real HTTP: PATCH of a study, patient merge, and what clients see after."""

from __future__ import annotations

import io
import json

import httpx
import pydicom
import pytest

from cloudpacs.adapters.local.hook_events import HookEventSink
from cloudpacs.runtime import Services
from cloudpacs.security.events import InstanceEvent
from tests.support.multipart_body import stow_body
from tests.support.multipart_reader import read_parts
from tests.support.synthetic import Patient, ct_study

DICOM_JSON = {"Content-Type": "application/dicom+json"}
MULTIPART = 'multipart/related; type="application/dicom"'
FIX = {
    "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Roe^Richard"}]},
    "PatientBirthDate": {"vr": "DA", "Value": ["19610203"]},
    "00080050": {"vr": "SH", "Value": ["ACC-FIXED"]},
    "00081030": {"vr": "LO"},
}


def _store(http: httpx.Client, patient: Patient, count: int = 3) -> str:
    study, objects = ct_study(count, series=2, rows=8, columns=8, patient=patient)
    body, headers = stow_body(objects)
    assert http.post("/studies", content=body, headers=headers).status_code == 200
    return study


def _patch(http: httpx.Client, study: str, body: object, **headers: str) -> httpx.Response:
    return http.patch(
        f"/studies/{study}", content=json.dumps(body), headers={**DICOM_JSON, **headers}
    )


def _etag(http: httpx.Client, study: str) -> str:
    return http.get(f"/studies/{study}/metadata").headers["etag"]


@pytest.fixture
def events(server: tuple[str, Services]) -> list[InstanceEvent]:
    sink = server[1].events
    assert isinstance(sink, HookEventSink)
    seen: list[InstanceEvent] = []
    sink.subscribe(seen.append)
    return seen


def test_a_correction_is_seen_by_qido_wado_and_metadata_at_once(
    http: httpx.Client, events: list[InstanceEvent]
) -> None:
    study = _store(http, Patient("Doe^Jane", "P-100"))
    before = http.get(f"/studies/{study}", headers={"Accept": MULTIPART})
    answer = _patch(http, study, FIX, **{"If-Match": _etag(http, study)})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "updatedInstances": 3,
        "previous": {
            "PatientName": "Doe^Jane",
            "PatientBirthDate": "19700101",
            "AccessionNumber": "ACC-0001",
            "StudyDescription": "CT CHEST",
        },
    }
    updated = [e for e in events if e.type.value != "InstanceStored"]
    assert [e.type.value for e in updated] == ["InstancesUpdated"] * 3
    assert {e.study_uid for e in updated} == {study}

    [found] = http.get("/studies", params={"AccessionNumber": "ACC-FIXED"}).json()
    assert found["00100010"]["Value"] == [{"Alphabetic": "Roe^Richard"}]
    assert found["00100030"]["Value"] == ["19610203"]
    assert http.get("/studies", params={"PatientName": "Doe*"}).json() == []
    assert http.get("/studies", params={"AccessionNumber": "ACC-0001"}).json() == []
    for item in http.get(f"/studies/{study}/metadata").json():
        assert item["00100010"]["Value"] == [{"Alphabetic": "Roe^Richard"}]
        assert "Value" not in item["00081030"]
    after = http.get(f"/studies/{study}", headers={"Accept": MULTIPART})
    old = {ds.SOPInstanceUID: ds for ds in _datasets(before)}
    new = _datasets(after)
    assert sorted(ds.SOPInstanceUID for ds in new) == sorted(old)
    for ds in new:
        was = old[ds.SOPInstanceUID]
        assert (ds.StudyInstanceUID, ds.SeriesInstanceUID) == (
            was.StudyInstanceUID,
            was.SeriesInstanceUID,
        )
        assert str(ds.PatientName) == "Roe^Richard" and ds.AccessionNumber == "ACC-FIXED"
        assert ds.PixelData == was.PixelData
    # the ETag of the answer names the new version: a second correction can follow it
    again = _patch(
        http,
        study,
        {"StudyID": {"vr": "SH", "Value": ["7"]}},
        **{"If-Match": answer.headers["etag"]},
    )
    assert again.status_code == 200, again.text


def _datasets(response: httpx.Response) -> list[pydicom.Dataset]:
    assert response.status_code == 200
    parts = read_parts(response.headers["content-type"], response.content)
    return [pydicom.dcmread(io.BytesIO(body)) for _, body in parts]


def test_preconditions_428_without_412_when_stale(http: httpx.Client) -> None:
    study = _store(http, Patient("Doe^Jane", "P-101"))
    seen = _etag(http, study)
    assert _patch(http, study, FIX).status_code == 428
    assert _patch(http, study, FIX, **{"If-Match": '"0000"'}).status_code == 412
    assert (
        _patch(
            http, study, FIX, **{"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
        ).status_code
        == 412
    )
    assert _etag(http, study) == seen  # nothing changed
    assert _patch(http, study, FIX, **{"If-Match": seen}).status_code == 200
    assert _patch(http, study, FIX, **{"If-Match": seen}).status_code == 412


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"00080060": {"vr": "CS", "Value": ["MR"]}}, "cannot be corrected here"),
        ({"StudyInstanceUID": {"vr": "UI", "Value": ["1.2.3"]}}, "is a UID"),
        ({"00100010": {"vr": "LO", "Value": ["X"]}}, "the VR is PN"),
        ({"PatientBirthDate": {"vr": "DA", "Value": ["19611302"]}}, "PatientBirthDate"),
        ({"PatientSex": {"vr": "CS", "Value": ["X"]}}, "PatientSex"),
        ({"AccessionNumber": {"vr": "SH", "Value": ["A", "B"]}}, "one value"),
        ({"AccessionNumber": {"vr": "SH", "Value": ["A" * 17]}}, "exceeds"),
        ({"NotAKeyword": {"vr": "SH"}}, "neither a DICOM tag"),
        ([], "one DICOM JSON object"),
        ({}, "one DICOM JSON object"),
    ],
)
def test_bad_corrections_are_400_with_a_reason_and_change_nothing(
    http: httpx.Client, body: object, reason: str
) -> None:
    study = _store(http, Patient("Doe^Jane", "P-102"), count=1)
    seen = _etag(http, study)
    answer = _patch(http, study, body, **{"If-Match": seen})
    assert answer.status_code == 400, answer.text
    assert reason in answer.json()["error"]
    assert _etag(http, study) == seen


def test_wrong_media_type_unknown_study_and_bad_json(http: httpx.Client) -> None:
    study = _store(http, Patient("Doe^Jane", "P-103"), count=1)
    plain = http.patch(f"/studies/{study}", content=b"{}", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    broken = http.patch(f"/studies/{study}", content=b"{", headers=DICOM_JSON)
    assert broken.status_code == 400
    missing = _patch(http, "1.2.3.4", FIX, **{"If-Match": "*"})
    assert missing.status_code == 404
    assert _patch(http, "not-a-uid", FIX, **{"If-Match": "*"}).status_code == 400


def test_merge_moves_every_study_of_one_patient_to_another(http: httpx.Client) -> None:
    first = _store(http, Patient("Doe^J", "P-OLD"), count=1)
    second = _store(http, Patient("Doe^J", "P-OLD"), count=2)
    kept = _store(http, Patient("Roe^R", "P-NEW"), count=1)
    target = {
        "PatientID": {"vr": "LO", "Value": ["P-NEW"]},
        "PatientName": {"vr": "PN", "Value": [{"Alphabetic": "Roe^R"}]},
    }
    answer = http.post("/patients/P-OLD/merge", content=json.dumps(target), headers=DICOM_JSON)
    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["mergedStudies"]) == sorted([first, second])
    assert answer.json()["updatedInstances"] == 3
    assert http.get("/studies", params={"PatientID": "P-OLD"}).json() == []
    found = http.get("/studies", params={"PatientID": "P-NEW"}).json()
    assert sorted(s["0020000D"]["Value"][0] for s in found) == sorted([first, second, kept])
    root = str(http.base_url).removesuffix("/dicom-web/")
    patients = httpx.get(f"{root}/api/v1/patients", params={"PatientID": "P-NEW"}).json()
    assert [p["PatientID"] for p in patients["items"]] == ["P-NEW"]

    again = http.post("/patients/P-OLD/merge", content=json.dumps(target), headers=DICOM_JSON)
    assert again.status_code == 404
    study_level = {**target, "AccessionNumber": {"vr": "SH", "Value": ["X"]}}
    refused = http.post(
        "/patients/P-NEW/merge", content=json.dumps(study_level), headers=DICOM_JSON
    )
    assert refused.status_code == 400 and "patient attributes only" in refused.json()["error"]
    no_id = http.post(
        "/patients/P-NEW/merge",
        content=json.dumps({"PatientName": target["PatientName"]}),
        headers=DICOM_JSON,
    )
    assert no_id.status_code == 400


def test_the_audit_event_keeps_the_previous_values(
    http: httpx.Client, server: tuple[str, Services]
) -> None:
    study = _store(http, Patient("Doe^Jane", "P-104"), count=2)
    assert _patch(http, study, FIX, **{"If-Match": _etag(http, study)}).status_code == 200
    audit = server[1].settings.audit_file
    updates = [
        e for e in map(json.loads, audit.read_text().splitlines()) if e["action"] == "update"
    ]
    assert len(updates) == 1
    event = updates[0]
    assert event["study_uid"] == study and event["instance_count"] == 2
    assert event["previous"]["PatientName"] == "Doe^Jane"
    assert event["previous"]["AccessionNumber"] == "ACC-0001"
