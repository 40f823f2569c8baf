"""The REST API under /api/v1 over real HTTP: lists filtered and paged as QIDO-RS, plain
JSON by keyword, the status of each component, and the permission matrix."""

from __future__ import annotations

import time

import httpx
import pytest

from cloudpacs.runtime import Services
from tests.support.multipart_body import stow_body
from tests.support.synthetic import Patient, ct_study

JANE = Patient()
JOHN = Patient(name="Roe^John", patient_id="PID-0002", birth_date="19800202", sex="M")


def _root(server: tuple[str, Services]) -> str:
    return server[0].removesuffix(server[1].settings.base_path)


@pytest.fixture
def archive(server: tuple[str, Services], http: httpx.Client) -> dict[str, str]:
    """Three studies: two of Jane (one with two series), one of John."""
    studies = {}
    for name, patient, count, series, date in (
        ("jane_old", JANE, 2, 1, "20250101"),
        ("jane_new", JANE, 4, 2, "20260301"),
        ("john", JOHN, 1, 1, "20260201"),
    ):
        study, objects = ct_study(
            count, series=series, patient=patient, rows=8, columns=8, study_date=date
        )
        body, headers = stow_body(objects)
        assert http.post("/studies", content=body, headers=headers).status_code == 200
        studies[name] = study
    return studies


@pytest.fixture
def api(server: tuple[str, Services]) -> httpx.Client:
    with httpx.Client(base_url=_root(server) + "/api/v1", timeout=30) as client:
        yield client


def test_studies_are_plain_json_filtered_like_qido(
    api: httpx.Client, archive: dict[str, str]
) -> None:
    everything = api.get("/studies").json()
    assert {s["StudyInstanceUID"] for s in everything["items"]} == set(archive.values())
    assert everything["more"] is False and everything["offset"] == 0
    johns = api.get("/studies", params={"PatientName": "Roe*"}).json()["items"]
    assert len(johns) == 1
    john = johns[0]
    assert john["StudyInstanceUID"] == archive["john"]
    assert john["PatientName"] == "Roe^John"  # the alphabetic form, not DICOM JSON
    assert john["PatientID"] == "PID-0002"
    assert john["ModalitiesInStudy"] == "CT"
    assert john["NumberOfStudyRelatedInstances"] == 1
    ranged = api.get("/studies", params={"StudyDate": "20260101-"}).json()["items"]
    assert {s["StudyInstanceUID"] for s in ranged} == {archive["jane_new"], archive["john"]}


def test_lists_page_with_limit_and_offset(api: httpx.Client, archive: dict[str, str]) -> None:
    first = api.get("/studies", params={"limit": 2}).json()
    second = api.get("/studies", params={"limit": 2, "offset": 2}).json()
    assert len(first["items"]) == 2 and first["more"] is True and first["limit"] == 2
    assert len(second["items"]) == 1 and second["more"] is False
    seen = {s["StudyInstanceUID"] for s in first["items"] + second["items"]}
    assert seen == set(archive.values())
    exact = api.get("/studies", params={"limit": 3}).json()
    assert len(exact["items"]) == 3 and exact["more"] is False


def test_patients_group_their_studies(api: httpx.Client, archive: dict[str, str]) -> None:
    patients = {p["PatientID"]: p for p in api.get("/patients").json()["items"]}
    assert set(patients) == {"PID-0001", "PID-0002"}
    jane = patients["PID-0001"]
    assert jane["PatientName"] == "Doe^Jane" and jane["PatientSex"] == "F"
    assert jane["NumberOfPatientRelatedStudies"] == 2
    assert jane["NumberOfPatientRelatedSeries"] == 3
    assert jane["NumberOfPatientRelatedInstances"] == 6
    page = api.get("/patients", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["more"] is True
    rest = api.get("/patients", params={"limit": 1, "offset": 1}).json()
    assert rest["more"] is False
    assert {page["items"][0]["PatientID"], rest["items"][0]["PatientID"]} == set(patients)


def test_series_list_filters_by_study(api: httpx.Client, archive: dict[str, str]) -> None:
    series = api.get("/series", params={"StudyInstanceUID": archive["jane_new"]}).json()
    assert len(series["items"]) == 2
    assert {s["Modality"] for s in series["items"]} == {"CT"}
    assert sorted(s["NumberOfSeriesRelatedInstances"] for s in series["items"]) == [2, 2]
    assert len(api.get("/series").json()["items"]) == 4


@pytest.mark.parametrize(
    "query", ["limit=-1", "offset=x", "NoSuchAttribute=1", "StudyDate=2026-01", "limit=abc"]
)
def test_bad_filters_are_400_with_a_reason(api: httpx.Client, query: str) -> None:
    response = api.get("/studies?" + query)
    assert response.status_code == 400, response.text
    assert response.json()["error"]


def test_status_reports_each_component(api: httpx.Client, server: tuple[str, Services]) -> None:
    status = api.get("/system/status")
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "ok" and body["backend"] == "embedded"
    assert body["uptimeSeconds"] >= 0
    assert body["components"]["database"] == {"status": "ok"}
    assert body["components"]["storage"] == {"status": "ok"}
    # No bridge runs in this process: it is a service of its own.
    assert body["components"]["dimse"] == {"status": "external"}
    metrics = api.get("/system/metrics")
    assert metrics.status_code == 200
    assert "text/plain" in metrics.headers["content-type"]
    assert "cloudpacs_" in metrics.text


def test_the_rest_api_is_audited(
    api: httpx.Client, archive: dict[str, str], server: tuple[str, Services]
) -> None:
    reader = server[1].audit_reader
    assert reader is not None
    assert api.get("/studies", params={"PatientID": "PID-0002"}).status_code == 200
    assert api.get("/system/metrics").status_code == 200
    # The fixture only stored: these are the two requests above (the event is written as
    # the response ends, so wait for it).
    deadline = time.monotonic() + 10
    while True:
        events = [e for e in reader.read() if e.action in ("search", "read_audit")]
        if len(events) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sorted((e.action, e.outcome.value, e.status) for e in events) == [
        ("read_audit", "success", 200),
        ("search", "success", 200),
    ]
