"""Every valid instance pydicom ships: stored with STOW-RS, found with QIDO-RS, retrieved
byte-identical with WADO-RS (PS3.18 §10.4: ``transfer-syntax=*`` returns the stored
syntax), its metadata consistent with the object, then deleted."""

from __future__ import annotations

import io
import warnings

import httpx
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient

from tests.support.corpus import CorpusFile, corpus, unique_batches
from tests.support.multipart_body import stow_body
from tests.support.multipart_reader import read_parts

AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def _store(http: httpx.Client, files: list[CorpusFile]) -> None:
    for start in range(0, len(files), 25):
        chunk = files[start : start + 25]
        body, headers = stow_body([f.data for f in chunk])
        response = http.post("/studies", content=body, headers=headers)
        assert response.status_code == 200, response.text[:2000]
        referenced = response.json()["00081199"]["Value"]
        assert {r["00081155"]["Value"][0] for r in referenced} == {f.sop_uid for f in chunk}


def _check_instance(http: httpx.Client, dicomweb: DICOMwebClient, f: CorpusFile) -> None:
    found = dicomweb.search_for_instances(
        study_instance_uid=f.study_uid, search_filters={"SOPInstanceUID": f.sop_uid}
    )
    assert len(found) == 1, f.path.name
    url = f"/studies/{f.study_uid}/series/{f.series_uid}/instances/{f.sop_uid}"
    response = http.get(url, headers={"Accept": AS_STORED})
    assert response.status_code == 200, f.path.name
    parts = read_parts(response.headers["content-type"], response.content)
    assert len(parts) == 1
    assert parts[0][1] == f.data, f"{f.path.name} not byte-identical"
    assert f.transfer_syntax in parts[0][0]

    metadata = dicomweb.retrieve_instance_metadata(f.study_uid, f.series_uid, f.sop_uid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = pydicom.dcmread(io.BytesIO(f.data), stop_before_pixels=True)
        from_json = pydicom.Dataset.from_json(metadata)
    assert from_json.SOPInstanceUID == f.sop_uid
    for keyword in (
        "SOPClassUID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "Rows",
        "Columns",
        "Modality",
        "PatientID",
        "NumberOfFrames",
    ):
        if keyword in original and original[keyword].value not in (None, ""):
            try:
                original[keyword].to_json_dict(None, 1 << 30)
            except Exception:
                continue  # a malformed value (badVR.dcm's IS "1A") has no DICOM JSON form
            assert str(from_json.get(keyword)) == str(original[keyword].value), (
                f"{f.path.name}: {keyword}"
            )
    if "PixelData" in original or f.data.find(b"\xe0\x7f\x10\x00") > 0:
        pixel = metadata.get("7FE00010")
        if pixel is not None:
            assert "BulkDataURI" in pixel and "InlineBinary" not in pixel


def test_every_pydicom_instance_round_trips(http: httpx.Client, dicomweb: DICOMwebClient) -> None:
    files = corpus()
    assert len(files) >= 120, "pydicom-data should provide the full corpus"
    for batch in unique_batches(files):
        _store(http, batch)
        for f in batch:
            _check_instance(http, dicomweb, f)
        for study in {f.study_uid for f in batch}:
            assert http.delete(f"/studies/{study}").status_code == 200
        assert dicomweb.search_for_studies() == []


@pytest.mark.parametrize("name", ["CT_small.dcm", "emri_small_jpeg_2k_lossless.dcm"])
def test_dicomweb_client_retrieve_instance_parses(
    http: httpx.Client, dicomweb: DICOMwebClient, name: str
) -> None:
    f = next(x for x in corpus() if x.path.name == name)
    _store(http, [f])
    ds = dicomweb.retrieve_instance(f.study_uid, f.series_uid, f.sop_uid)
    assert ds.SOPInstanceUID == f.sop_uid
    assert ds.file_meta.TransferSyntaxUID == f.transfer_syntax
