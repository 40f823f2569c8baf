"""Every DICOMweb route answered for ``dicomweb-client``, a standard client (PS3.18)."""

from __future__ import annotations

import io

import httpx
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom.encaps import generate_frames

from tests.support.corpus import corpus
from tests.support.multipart_body import stow_body
from tests.support.synthetic import Patient, ct_instance, ct_study


def _store_bytes(http: httpx.Client, objects: list[bytes], path: str = "/studies") -> dict:
    body, headers = stow_body(objects)
    response = http.post(path, content=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_store_with_dicomweb_client_and_search_every_level(dicomweb: DICOMwebClient) -> None:
    study_uid, objects = ct_study(
        6, series=2, rows=16, columns=16, patient=Patient("Müller^Hans", "P-77")
    )
    datasets = [pydicom.dcmread(io.BytesIO(o)) for o in objects]
    result = dicomweb.store_instances(datasets)
    assert len(result.ReferencedSOPSequence) == 6

    studies = dicomweb.search_for_studies(search_filters={"PatientID": "P-77"})
    assert len(studies) == 1
    study = pydicom.Dataset.from_json(studies[0])
    assert study.StudyInstanceUID == study_uid
    assert study.NumberOfStudyRelatedSeries == 2
    assert study.NumberOfStudyRelatedInstances == 6
    assert study.ModalitiesInStudy == "CT"
    assert study.RetrieveURL.endswith(f"/studies/{study_uid}")

    assert len(dicomweb.search_for_series()) == 2
    assert len(dicomweb.search_for_series(study_instance_uid=study_uid)) == 2
    assert len(dicomweb.search_for_instances()) == 6
    assert len(dicomweb.search_for_instances(study_instance_uid=study_uid)) == 6
    series_uid = datasets[0].SeriesInstanceUID
    assert len(dicomweb.search_for_instances(study_uid, series_uid)) == 3

    fuzzy = dicomweb.search_for_studies(
        search_filters={"PatientName": "muller"}, fuzzymatching=True
    )
    assert len(fuzzy) == 1
    assert dicomweb.search_for_studies(search_filters={"PatientName": "muller"}) == []
    assert len(dicomweb.search_for_studies(search_filters={"PatientName": "MÜLLER*"})) == 1
    paged = dicomweb.search_for_instances(study_uid, limit=4, offset=4)
    assert len(paged) == 2
    with_fields = dicomweb.search_for_studies(fields=["StudyDescription"])
    assert "00081030" in with_fields[0]


def test_retrieve_study_series_instance_and_metadata(
    dicomweb: DICOMwebClient, http: httpx.Client
) -> None:
    study_uid, objects = ct_study(4, series=2, rows=32, columns=32)
    _store_bytes(http, objects)
    datasets = [pydicom.dcmread(io.BytesIO(o)) for o in objects]
    retrieved = dicomweb.retrieve_study(study_uid)
    assert sorted(d.SOPInstanceUID for d in retrieved) == sorted(d.SOPInstanceUID for d in datasets)
    first = datasets[0]
    series = dicomweb.retrieve_series(study_uid, first.SeriesInstanceUID)
    assert len(series) == 2
    one = dicomweb.retrieve_instance(study_uid, first.SeriesInstanceUID, first.SOPInstanceUID)
    assert one.PixelData == first.PixelData

    study_meta = dicomweb.retrieve_study_metadata(study_uid)
    assert len(study_meta) == 4
    series_meta = dicomweb.retrieve_series_metadata(study_uid, first.SeriesInstanceUID)
    assert len(series_meta) == 2
    # served twice: the second answer comes from the series metadata cache
    assert dicomweb.retrieve_series_metadata(study_uid, first.SeriesInstanceUID) == series_meta
    meta = dicomweb.retrieve_instance_metadata(
        study_uid, first.SeriesInstanceUID, first.SOPInstanceUID
    )
    assert meta["7FE00010"]["BulkDataURI"].startswith(dicomweb.base_url)
    bulk = dicomweb.retrieve_bulkdata(meta["7FE00010"]["BulkDataURI"])
    assert bulk[0] == first.PixelData


def test_metadata_cache_follows_new_and_deleted_instances(
    dicomweb: DICOMwebClient, http: httpx.Client
) -> None:
    study_uid, objects = ct_study(3, rows=8, columns=8)
    _store_bytes(http, objects[:2])
    ds = pydicom.dcmread(io.BytesIO(objects[0]))
    assert len(dicomweb.retrieve_series_metadata(study_uid, ds.SeriesInstanceUID)) == 2
    _store_bytes(http, objects[2:])
    assert len(dicomweb.retrieve_series_metadata(study_uid, ds.SeriesInstanceUID)) == 3
    dicomweb.delete_instance(study_uid, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    remaining = dicomweb.retrieve_series_metadata(study_uid, ds.SeriesInstanceUID)
    assert ds.SOPInstanceUID not in {m["00080018"]["Value"][0] for m in remaining}


def test_frames_native_multiframe(dicomweb: DICOMwebClient, http: httpx.Client) -> None:
    study_uid = pydicom.uid.generate_uid()
    series_uid = pydicom.uid.generate_uid()
    data = ct_instance(study_uid, series_uid, 1, rows=16, columns=16, frames=5)
    _store_bytes(http, [data])
    ds = pydicom.dcmread(io.BytesIO(data))
    frame_len = 16 * 16 * 2
    frames = dicomweb.retrieve_instance_frames(study_uid, series_uid, ds.SOPInstanceUID, [2, 5])
    assert frames == [ds.PixelData[frame_len : 2 * frame_len], ds.PixelData[4 * frame_len :]]


@pytest.mark.parametrize(
    "name", ["emri_small_jpeg_2k_lossless.dcm", "SC_rgb_rle_2frame.dcm", "JPEG2000.dcm"]
)
def test_frames_compressed_as_stored(
    dicomweb: DICOMwebClient, http: httpx.Client, name: str
) -> None:
    f = next(x for x in corpus() if x.path.name == name)
    _store_bytes(http, [f.data])
    ds = pydicom.dcmread(io.BytesIO(f.data))
    count = int(ds.get("NumberOfFrames", 1))
    expected = list(generate_frames(ds.PixelData, number_of_frames=count))
    got = dicomweb.retrieve_instance_frames(
        f.study_uid, f.series_uid, f.sop_uid, list(range(1, count + 1))
    )
    assert got == expected


def test_frames_decoded_on_request(http: httpx.Client) -> None:
    f = next(x for x in corpus() if x.path.name == "SC_rgb_rle_2frame.dcm")
    _store_bytes(http, [f.data])
    url = f"/studies/{f.study_uid}/series/{f.series_uid}/instances/{f.sop_uid}/frames/2"
    response = http.get(
        url, headers={"Accept": 'multipart/related; type="application/octet-stream"'}
    )
    assert response.status_code == 200
    from tests.support.multipart_reader import read_parts

    parts = read_parts(response.headers["content-type"], response.content)
    ds = pydicom.dcmread(io.BytesIO(f.data))
    assert parts[0][1] == ds.pixel_array[1].tobytes()


def test_explicit_uncompressed_transfer_syntax_is_converted(http: httpx.Client) -> None:
    f = next(x for x in corpus() if x.path.name == "emri_small_jpeg_2k_lossless.dcm")
    _store_bytes(http, [f.data])
    url = f"/studies/{f.study_uid}/series/{f.series_uid}/instances/{f.sop_uid}"
    accept = 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1'
    response = http.get(url, headers={"Accept": accept})
    assert response.status_code == 200
    from tests.support.multipart_reader import read_parts

    part = read_parts(response.headers["content-type"], response.content)[0][1]
    converted = pydicom.dcmread(io.BytesIO(part))
    assert converted.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    original = pydicom.dcmread(io.BytesIO(f.data))
    assert (converted.pixel_array == original.pixel_array).all()


def test_single_part_instance(http: httpx.Client) -> None:
    study_uid, objects = ct_study(1, rows=8, columns=8)
    _store_bytes(http, objects)
    ds = pydicom.dcmread(io.BytesIO(objects[0]))
    url = f"/studies/{study_uid}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"
    response = http.get(url, headers={"Accept": "application/dicom"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/dicom")
    assert response.content == objects[0]


def test_delete_levels(dicomweb: DICOMwebClient, http: httpx.Client) -> None:
    study_uid, objects = ct_study(4, series=2, rows=8, columns=8)
    _store_bytes(http, objects)
    datasets = [pydicom.dcmread(io.BytesIO(o)) for o in objects]
    d0 = datasets[0]
    dicomweb.delete_instance(study_uid, d0.SeriesInstanceUID, d0.SOPInstanceUID)
    assert len(dicomweb.search_for_instances(study_uid)) == 3
    dicomweb.delete_series(study_uid, d0.SeriesInstanceUID)
    assert len(dicomweb.search_for_series(study_uid)) == 1
    dicomweb.delete_study(study_uid)
    assert dicomweb.search_for_studies() == []
    assert http.get(f"/studies/{study_uid}").status_code == 404


def test_health_and_metrics(base_url: str, http: httpx.Client) -> None:
    root = base_url.rsplit("/dicom-web", 1)[0]
    health = httpx.get(root + "/health").json()
    assert health["status"] == "ok"
    assert health["components"] == {"index": "ok", "blobs": "ok"}
    _study_uid, objects = ct_study(2, rows=8, columns=8)
    _store_bytes(http, objects)
    http.get("/studies")
    text = httpx.get(root + "/metrics").text
    assert "cloudpacs_instances_stored_total 2.0" in text
    assert 'cloudpacs_http_requests_total{method="GET"' in text
    assert "cloudpacs_http_request_seconds_bucket" in text


def test_as_stored_multipart_answers_carry_their_length(http: httpx.Client) -> None:
    study_uid, objects = ct_study(3, series=2, rows=16, columns=16)
    _store_bytes(http, objects)
    accept = {"Accept": 'multipart/related; type="application/dicom"'}
    whole = http.get(f"/studies/{study_uid}", headers=accept)
    assert whole.headers.get("transfer-encoding") is None
    assert int(whole.headers["content-length"]) == len(whole.content)
    assert http.head(f"/studies/{study_uid}", headers=accept).headers["content-length"] == str(
        len(whole.content)
    )
    converted = http.get(
        f"/studies/{study_uid}",
        headers={"Accept": accept["Accept"] + "; transfer-syntax=1.2.840.10008.1.2.5"},
    )
    assert converted.status_code == 200 and converted.content.endswith(b"--\r\n")
