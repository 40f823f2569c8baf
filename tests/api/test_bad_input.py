"""Bad input gets the status PS3.18 names and a JSON reason; nothing is half-written."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pydicom
import pytest

from cloudpacs.runtime import Services
from tests.support.multipart_body import stow_body
from tests.support.server import live_server
from tests.support.synthetic import ct_study


def _stored_keys(services: Services) -> list[str]:
    return [k for k in services.blobs.list_keys("studies/") if k.endswith(".dcm")]


@pytest.mark.parametrize(
    "path",
    [
        "/studies/1.2.abc",
        "/studies/1..2/metadata",
        "/studies/1.2/series/.1/instances/1.2.3",
        "/studies/" + "1." * 40 + "1",
        "/studies/%2E%2E%2F%2E%2E%2Fetc",
        "/studies/1.2/series/3.4/instances/5.6/frames/0",
        "/studies/1.2/series/3.4/instances/5.6/frames/1,x",
    ],
)
def test_malformed_uids_and_path_tricks_are_400(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/studies/1.2.3",
        "/studies/1.2.3/metadata",
        "/studies/1.2.3/series/4.5",
        "/studies/1.2.3/series/4.5/instances/6.7",
        "/studies/1.2.3/series/4.5/instances/6.7/frames/1",
        "/studies/1.2.3/series",
    ],
)
def test_unknown_resources_are_404(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404, response.text
    assert "not found" in response.json()["error"]


def test_unknown_frame_and_delete_of_unknown_are_404(http: httpx.Client) -> None:
    study, objects = ct_study(1, rows=8, columns=8)
    body, headers = stow_body(objects)
    assert http.post("/studies", content=body, headers=headers).status_code == 200
    ds = pydicom.dcmread(io.BytesIO(objects[0]))
    base = f"/studies/{study}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"
    assert http.get(base + "/frames/2").status_code == 404
    assert http.delete("/studies/1.2.3").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "NoSuchAttribute=1",
        "StudyDate=2020",
        "StudyDate=20200101-20200201-20200301",
        "StudyInstanceUID=1.2.x",
        "limit=-1",
        "offset=abc",
        "fuzzymatching=maybe",
        "includefield=NotAKeyword",
        "StudyInstanceUID=1.2*",
    ],
)
def test_bad_query_parameters_are_400(http: httpx.Client, query: str) -> None:
    response = http.get("/studies?" + query)
    assert response.status_code == 400, response.text
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/studies", "image/png"),
        ("/studies/{s}", "application/pdf"),
        ("/studies/{s}", "application/dicom"),  # single part only for one instance
        ("/studies/{s}/metadata", "application/xml"),
        ("/studies/{s}/series/{se}/instances/{i}/frames/1", 'multipart/related; type="image/jpeg"'),
        (
            "/studies/{s}/series/{se}/instances/{i}",
            'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50',
        ),
    ],
)
def test_unsupported_accept_is_406(http: httpx.Client, path: str, accept: str) -> None:
    study, objects = ct_study(1, rows=8, columns=8)
    body, headers = stow_body(objects)
    assert http.post("/studies", content=body, headers=headers).status_code == 200
    ds = pydicom.dcmread(io.BytesIO(objects[0]))
    url = path.format(s=study, se=ds.SeriesInstanceUID, i=ds.SOPInstanceUID)
    response = http.get(url, headers={"Accept": accept})
    assert response.status_code == 406, response.text
    assert response.json()["error"]


def test_wrong_content_type_is_415_and_nothing_stored(
    http: httpx.Client, server: tuple[str, Services]
) -> None:
    _, objects = ct_study(1, rows=8, columns=8)
    for content_type in (
        "application/json",
        "application/dicom+json",
        'multipart/related; type="application/dicom+xml"; boundary=x',
    ):
        response = http.post("/studies", content=objects[0], headers={"Content-Type": content_type})
        assert response.status_code == 415, response.text
        assert response.json()["error"]
    assert _stored_keys(server[1]) == []


def test_non_dicom_parts_are_409_with_reasons(
    http: httpx.Client, server: tuple[str, Services]
) -> None:
    body, headers = stow_body([b"not dicom at all", b"\x00" * 200])
    response = http.post("/studies", content=body, headers=headers)
    assert response.status_code == 409
    failures = response.json()["0008119A"]["Value"]
    assert [f["00081197"]["Value"][0] for f in failures] == [0xC000, 0xC000]
    assert all("Part-10" in f["00091001"]["Value"][0] for f in failures)
    assert _stored_keys(server[1]) == []


def test_mixed_request_is_202_and_keeps_the_good_instance(http: httpx.Client) -> None:
    _, objects = ct_study(1, rows=8, columns=8)
    body, headers = stow_body([objects[0], b"garbage"])
    response = http.post("/studies", content=body, headers=headers)
    assert response.status_code == 202
    payload = response.json()
    assert len(payload["00081199"]["Value"]) == 1
    assert len(payload["0008119A"]["Value"]) == 1


def test_study_mismatch_is_409(http: httpx.Client, server: tuple[str, Services]) -> None:
    _, objects = ct_study(1, rows=8, columns=8)
    body, headers = stow_body(objects)
    response = http.post("/studies/1.2.3.4", content=body, headers=headers)
    assert response.status_code == 409
    failed = response.json()["00081198"]["Value"][0]
    assert failed["00081197"]["Value"] == [0xA900]
    assert _stored_keys(server[1]) == []


def test_malformed_uid_inside_object_is_rejected(
    http: httpx.Client, server: tuple[str, Services]
) -> None:
    _, objects = ct_study(1, rows=8, columns=8)
    ds = pydicom.dcmread(io.BytesIO(objects[0]))
    ds.SOPInstanceUID = "1.2.3/../../evil"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    body, headers = stow_body([out.getvalue()])
    response = http.post("/studies", content=body, headers=headers)
    assert response.status_code == 409
    assert "SOPInstanceUID" in response.json()["0008119A"]["Value"][0]["00091001"]["Value"][0]
    assert _stored_keys(server[1]) == []


def test_duplicate_with_other_content_is_rejected_and_original_kept(
    http: httpx.Client, server: tuple[str, Services]
) -> None:
    study, objects = ct_study(1, rows=8, columns=8)
    body, headers = stow_body(objects)
    assert http.post("/studies", content=body, headers=headers).status_code == 200
    assert http.post("/studies", content=body, headers=headers).status_code == 200  # idempotent
    ds = pydicom.dcmread(io.BytesIO(objects[0]))
    ds.PatientName = "Other^Name"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    body2, headers2 = stow_body([out.getvalue()])
    response = http.post("/studies", content=body2, headers=headers2)
    assert response.status_code == 409
    assert response.json()["00081198"]["Value"][0]["00081197"]["Value"] == [0x0111]
    url = f"/studies/{study}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"
    assert http.get(url, headers={"Accept": "application/dicom"}).content == objects[0]


def test_oversize_body_is_413_and_nothing_stored(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", max_request_bytes=4096) as (url, services):
        _, objects = ct_study(2, rows=32, columns=32)
        body, headers = stow_body(objects)
        response = httpx.post(url + "/studies", content=body, headers=headers)
        assert response.status_code == 413
        assert "limit" in response.json()["error"]

        def chunks():  # no Content-Length: the limit applies while streaming
            yield body[:3000]
            yield body[3000:]

        response = httpx.post(url + "/studies", content=chunks(), headers=headers)
        assert response.status_code == 413
        assert _stored_keys(services) == []


def test_oversize_single_part_body_is_413_and_nothing_stored(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", max_request_bytes=4096) as (url, services):
        _, objects = ct_study(1, rows=64, columns=64)
        headers = {"Content-Type": "application/dicom"}
        response = httpx.post(url + "/studies", content=objects[0], headers=headers)
        assert response.status_code == 413
        response = httpx.post(url + "/studies", content=iter([objects[0]]), headers=headers)
        assert response.status_code == 413
        assert "limit" in response.json()["error"]
        assert _stored_keys(services) == []


def test_truncated_multipart_is_400(http: httpx.Client) -> None:
    _, objects = ct_study(1, rows=8, columns=8)
    body, headers = stow_body(objects)
    response = http.post("/studies", content=body[:-40], headers=headers)
    assert response.status_code == 400
    assert "closing boundary" in response.json()["error"]


def test_body_breaking_off_keeps_the_parts_that_arrived_whole(
    http: httpx.Client, server: tuple[str, Services]
) -> None:
    _, objects = ct_study(2, rows=8, columns=8)
    body, headers = stow_body(objects)
    cut = body.index(objects[1]) + 100  # the second part is incomplete
    response = http.post("/studies", content=body[:cut], headers=headers)
    assert response.status_code == 202
    payload = response.json()
    assert len(payload["00081199"]["Value"]) == 1
    assert "closing boundary" in payload["0008119A"]["Value"][0]["00091001"]["Value"][0]
    assert len(_stored_keys(server[1])) == 1
