"""One suite, two runtimes: every route of every function, on the local server and on the
Lambda handlers behind API Gateway, with the same expected results."""

from __future__ import annotations

import io

import pydicom
from pydicom.uid import generate_uid

from tests.functions.clients import Api
from tests.support.multipart_body import stow_body
from tests.support.multipart_reader import read_parts
from tests.support.synthetic import ct_instance
from tests.support.upload_flow import start_upload

DICOM_JSON = "application/dicom+json"
MULTIPART_DICOM = 'multipart/related; type="application/dicom"'
REFERENCED = "00081199"
FAILED = "00081198"
FAILURE_REASON = "00081197"
RETRIEVE_URL = "00081190"


def _study(count: int = 3, series: int = 2) -> tuple[str, list[str], list[bytes]]:
    study = generate_uid()
    series_uids = [generate_uid() for _ in range(series)]
    objects = [
        ct_instance(study, series_uids[i % series], i + 1, rows=32, columns=32, series_number=i)
        for i in range(count)
    ]
    return study, series_uids, objects


def _sop(data: bytes) -> str:
    return str(pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).SOPInstanceUID)


def _stow(api: Api, objects: list[bytes], study: str | None = None) -> dict[str, object]:
    body, headers = stow_body(objects)
    path = f"/studies/{study}" if study else "/studies"
    response = api.client.post(path, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(DICOM_JSON)
    dataset: dict[str, object] = response.json()
    return dataset


def test_store_then_search_at_every_level(dicomweb_api: Api) -> None:
    api = dicomweb_api
    study, series, objects = _study()
    stored = _stow(api, objects)
    assert len(stored[REFERENCED]["Value"]) == 3  # type: ignore[index]
    assert stored[RETRIEVE_URL]["Value"] == [f"{api.base_url}/studies/{study}"]  # type: ignore[index]
    found = api.client.get(
        "/studies",
        params=[
            ("StudyInstanceUID", study),
            ("includefield", "StudyDescription"),
            ("includefield", "00081030"),
            ("includefield", "ModalitiesInStudy"),
        ],
        headers={"Accept": DICOM_JSON},
    )
    assert found.status_code == 200
    [match] = found.json()
    assert match["0020000D"]["Value"] == [study]
    assert match["00081030"]["Value"] == ["CT CHEST"]
    assert match["00201208"]["Value"] == [3]  # NumberOfStudyRelatedInstances
    series_found = api.client.get(f"/studies/{study}/series", params=[("Modality", "CT")])
    assert sorted(s["0020000E"]["Value"][0] for s in series_found.json()) == sorted(series)
    instances = api.client.get(f"/studies/{study}/series/{series[0]}/instances")
    assert len(instances.json()) == 2
    everywhere = api.client.get("/instances", params=[("StudyInstanceUID", study)])
    assert len(everywhere.json()) == 3
    all_series = api.client.get("/series", params=[("StudyInstanceUID", study)])
    assert len(all_series.json()) == 2
    in_study = api.client.get(f"/studies/{study}/instances", params=[("limit", "2")])
    assert len(in_study.json()) == 2


def test_retrieve_instances_metadata_frames_and_bulk_data(dicomweb_api: Api) -> None:
    api = dicomweb_api
    study, series, objects = _study()
    _stow(api, objects)
    sop = _sop(objects[0])
    instance = f"/studies/{study}/series/{series[0]}/instances/{sop}"
    got = api.client.get(instance, headers={"Accept": MULTIPART_DICOM})
    assert got.status_code == 200
    [(part_type, payload)] = read_parts(got.headers["content-type"], got.content)
    assert part_type.startswith("application/dicom") and payload == objects[0]
    whole_study = api.client.get(f"/studies/{study}", headers={"Accept": MULTIPART_DICOM})
    assert sorted(
        p for _, p in read_parts(whole_study.headers["content-type"], whole_study.content)
    ) == sorted(objects)
    series_meta = api.client.get(f"/studies/{study}/series/{series[0]}/metadata")
    assert series_meta.status_code == 200
    assert series_meta.headers["content-type"].startswith(DICOM_JSON)
    items = series_meta.json()
    assert len(items) == 2
    bulk = items[0]["7FE00010"]["BulkDataURI"]
    assert bulk.startswith(f"{api.base_url}/studies/{study}/series/{series[0]}/instances/")
    assert len(api.client.get(f"/studies/{study}/metadata").json()) == 3
    assert len(api.client.get(f"{instance}/metadata").json()) == 1
    frame = api.client.get(
        f"{instance}/frames/1",
        headers={"Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'},
    )
    assert frame.status_code == 200
    [(_, pixels)] = read_parts(frame.headers["content-type"], frame.content)
    assert len(pixels) == 32 * 32 * 2
    bulk_path = bulk.removeprefix(api.base_url)
    bulk_data = api.client.get(
        bulk_path, headers={"Accept": 'multipart/related; type="application/octet-stream"'}
    )
    assert bulk_data.status_code == 200
    [(_, value)] = read_parts(bulk_data.headers["content-type"], bulk_data.content)
    assert value == pixels


def test_delete_at_each_level(dicomweb_api: Api) -> None:
    api = dicomweb_api
    study, series, objects = _study(count=4)
    _stow(api, objects)
    sop = _sop(objects[0])
    gone = api.client.delete(f"/studies/{study}/series/{series[0]}/instances/{sop}")
    assert gone.status_code == 200 and gone.json() == {"deleted_instances": 1}
    assert api.client.get(f"/studies/{study}/series/{series[0]}/instances/{sop}").status_code == 404
    assert api.client.delete(f"/studies/{study}/series/{series[1]}").json() == {
        "deleted_instances": 2
    }
    assert api.client.delete(f"/studies/{study}").json() == {"deleted_instances": 1}
    assert api.client.get(f"/studies/{study}/metadata").status_code == 404


def test_conditional_requests(dicomweb_api: Api) -> None:
    api = dicomweb_api
    study, series, objects = _study(count=2, series=1)
    _stow(api, objects)
    urls = [
        (f"/studies/{study}/metadata", {}),
        (f"/studies/{study}", {"Accept": MULTIPART_DICOM}),
        (f"/studies/{study}/series/{series[0]}/instances/{_sop(objects[0])}/frames/1", {}),
        ("/studies", {"Accept": DICOM_JSON}),
    ]
    seen = {}
    for url, headers in urls:
        first = api.client.get(url, headers=headers)
        assert first.status_code == 200, url
        seen[url] = first.headers["etag"]
        cached = api.client.get(url, headers={**headers, "If-None-Match": seen[url]})
        assert cached.status_code == 304 and cached.content == b"", url
        assert cached.headers["etag"] == seen[url]
    _stow(api, [ct_instance(study, series[0], 7, rows=32, columns=32)])
    changed = api.client.get(urls[0][0], headers={"If-None-Match": seen[urls[0][0]]})
    assert changed.status_code == 200 and len(changed.json()) == 3
    stale = api.client.delete(f"/studies/{study}", headers={"If-Match": seen[urls[0][0]]})
    assert stale.status_code == 412
    current = changed.headers["etag"]
    deleted = api.client.delete(f"/studies/{study}", headers={"If-Match": current})
    assert deleted.status_code == 200 and deleted.json() == {"deleted_instances": 3}


def test_correction_of_a_study(dicomweb_api: Api) -> None:
    api = dicomweb_api
    study, _, objects = _study(count=3, series=2)
    _stow(api, objects)
    version = api.client.get(f"/studies/{study}/metadata").headers["etag"]
    fix = {"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Roe^Richard"}]}}
    headers = {"Content-Type": DICOM_JSON}
    assert api.client.patch(f"/studies/{study}", json=fix, headers=headers).status_code == 428
    fixed = api.client.patch(
        f"/studies/{study}", json=fix, headers={**headers, "If-Match": version}
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["updatedInstances"] == 3
    assert fixed.json()["previous"] == {"PatientName": "Doe^Jane"}
    [found] = api.client.get("/studies", params={"StudyInstanceUID": study}).json()
    assert found["00100010"]["Value"] == [{"Alphabetic": "Roe^Richard"}]
    for item in api.client.get(f"/studies/{study}/metadata").json():
        assert item["00100010"]["Value"] == [{"Alphabetic": "Roe^Richard"}]


def test_legal_hold_blocks_delete_until_released(dicomweb_api: Api) -> None:
    api = dicomweb_api
    study, series, objects = _study(count=2, series=1)
    _stow(api, objects)
    hold = f"/studies/{study}/hold"
    assert api.client.get(hold).json() == {"hold": False}
    placed = api.client.put(hold, json={"reason": "litigation 2026-17"})
    assert placed.status_code == 201, placed.text
    assert api.client.get(hold).json()["reason"] == "litigation 2026-17"
    refused = api.client.delete(f"/studies/{study}/series/{series[0]}")
    assert refused.status_code == 409 and "legal hold" in refused.json()["error"]
    assert api.client.get(f"/studies/{study}/metadata").status_code == 200
    released = api.client.delete(hold)
    assert released.status_code == 200 and released.json()["hold"] is False
    assert api.client.delete(f"/studies/{study}").json() == {"deleted_instances": 2}


def test_refusals_have_the_status_ps3_18_names(dicomweb_api: Api) -> None:
    api = dicomweb_api
    _, _, objects = _study(count=1)
    missing = api.client.get(f"/studies/{generate_uid()}/metadata")
    assert missing.status_code == 404 and "not found" in missing.json()["error"]
    assert api.client.get("/studies/not..a..uid/metadata").status_code == 400
    assert api.client.get("/studies", headers={"Accept": "text/html"}).status_code == 406
    wrong_type = api.client.post(
        "/studies", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert wrong_type.status_code == 415
    body, headers = stow_body([b"not dicom at all"])
    refused = api.client.post("/studies", content=body, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["0008119A"]["Value"][0][FAILURE_REASON]["Value"] == [0xC000]
    _stow(api, objects)
    body, headers = stow_body(objects)
    other_study = api.client.post(f"/studies/{generate_uid()}", content=body, headers=headers)
    assert other_study.status_code == 409
    assert other_study.json()[FAILED]["Value"][0][FAILURE_REASON]["Value"] == [0xA900]


def test_single_part_stow_answers_as_the_multipart_form(dicomweb_api: Api) -> None:
    """One instance as a single-part application/dicom body: same response and errors."""
    api = dicomweb_api
    study, series, objects = _study(count=2, series=1)
    single = {"Content-Type": "application/dicom", "Accept": DICOM_JSON}
    stored = api.client.post("/studies", content=objects[0], headers=single)
    assert stored.status_code == 200, stored.text
    multipart = _stow(api, [objects[1]])
    assert stored.json().keys() == multipart.keys()
    referenced = stored.json()[REFERENCED]["Value"][0]
    assert referenced["00081155"]["Value"] == [_sop(objects[0])]
    url = f"/studies/{study}/series/{series[0]}/instances/{_sop(objects[0])}"
    assert api.client.get(url, headers={"Accept": "application/dicom"}).content == objects[0]
    again = api.client.post(f"/studies/{study}", content=objects[0], headers=single)
    assert again.status_code == 200  # idempotent, and into its own study
    garbage = api.client.post("/studies", content=b"not dicom at all", headers=single)
    assert garbage.status_code == 409
    assert garbage.json()["0008119A"]["Value"][0][FAILURE_REASON]["Value"] == [0xC000]
    elsewhere = api.client.post(f"/studies/{generate_uid()}", content=objects[0], headers=single)
    assert elsewhere.status_code == 409
    assert elsewhere.json()[FAILED]["Value"][0][FAILURE_REASON]["Value"] == [0xA900]
    empty = api.client.post("/studies", content=b"", headers=single)
    assert empty.status_code == 400 and "empty" in empty.json()["error"]


def test_rest_api_lists_what_qido_finds(dicomweb_api: Api) -> None:
    api = dicomweb_api
    study, _, objects = _study(count=2, series=2)
    _stow(api, objects)
    root = api.base_url.removesuffix("/dicom-web") + "/api/v1"
    studies = api.client.get(root + "/studies", params={"StudyInstanceUID": study})
    assert studies.status_code == 200, studies.text
    (found,) = studies.json()["items"]
    assert found["StudyInstanceUID"] == study and found["NumberOfStudyRelatedSeries"] == 2
    series = api.client.get(root + "/series", params={"StudyInstanceUID": study}).json()
    assert len(series["items"]) == 2
    patients = api.client.get(root + "/patients", params={"PatientID": found["PatientID"]})
    assert patients.json()["items"][0]["NumberOfPatientRelatedStudies"] >= 1
    status = api.client.get(root + "/system/status").json()
    assert status["status"] == "ok"
    assert status["components"]["database"] == {"status": "ok"}
    assert api.client.get(root + "/studies", params={"limit": "x"}).status_code == 400


def test_upload_of_a_part10_file(dicomweb_api: Api) -> None:
    api = dicomweb_api
    study, series, objects = _study(count=1, series=1)
    upload_id = start_upload(api.client, objects[0], study=study)
    pending = api.client.get(f"/uploads/{upload_id}")
    assert pending.status_code in (200, 202)
    api.settle()
    done = api.client.get(f"/uploads/{upload_id}")
    assert done.status_code == 200, done.text
    assert done.headers["content-type"].startswith(DICOM_JSON)
    assert done.json()[RETRIEVE_URL]["Value"] == [f"{api.base_url}/studies/{study}"]
    sop = _sop(objects[0])
    got = api.client.get(f"/studies/{study}/series/{series[0]}/instances/{sop}")
    [(_, payload)] = read_parts(got.headers["content-type"], got.content)
    assert payload == objects[0]


def test_upload_of_a_stow_body_and_of_something_else(dicomweb_api: Api) -> None:
    api = dicomweb_api
    _, _, objects = _study(count=2, series=1)
    body, headers = stow_body(objects)
    many = start_upload(api.client, body, content_type=headers["Content-Type"])
    junk = start_upload(api.client, b"\x00" * 300)
    broken = start_upload(
        api.client,
        b"--b\r\nno end",
        content_type='multipart/related; type="application/dicom"; boundary=b',
    )
    api.settle()
    stored = api.client.get(f"/uploads/{many}")
    assert stored.status_code == 200
    assert len(stored.json()[REFERENCED]["Value"]) == 2
    refused = api.client.get(f"/uploads/{junk}")
    assert refused.status_code == 409
    assert refused.json()["0008119A"]["Value"][0][FAILURE_REASON]["Value"] == [0xC000]
    unreadable = api.client.get(f"/uploads/{broken}")
    assert unreadable.status_code == 400
    assert "closing boundary" in unreadable.json()["error"]
    assert api.client.get(f"/uploads/{'0' * 32}").status_code == 404
    assert api.client.post("/uploads", json={"contentType": "image/png"}).status_code == 400
    assert api.client.post("/uploads", json={"size": 1 << 40}).status_code == 413
