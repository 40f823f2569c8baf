"""STOW-RS with the IOD check on (PS3.18 §10.5.3): ``warn`` stores and answers 202 with
warning 0xB007 naming what is missing; ``reject`` answers 409 with 0xA900 and stores nothing;
a complete object is 200 either way; ``off`` (the default) stores as before."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pydicom
import pytest

from tests.support.iod_samples import complete, strip
from tests.support.multipart_body import stow_body
from tests.support.server import live_server
from tests.support.synthetic import ct_instance

WARNING_REASON = "00081196"
FAILURE_REASON = "00081197"
REASON_TEXT = "00091001"


def _objects() -> tuple[bytes, bytes]:
    full = complete(
        pydicom.dcmread(io.BytesIO(ct_instance("1.2.3", "1.2.3.4", 1, rows=8, columns=8)))
    )
    lacking = strip(full, "PatientName", "ImagePositionPatient")
    lacking.SOPInstanceUID = lacking.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5"
    encoded = []
    for ds in (full, lacking):
        out = io.BytesIO()
        ds.save_as(out, enforce_file_format=True)
        encoded.append(out.getvalue())
    return encoded[0], encoded[1]


@pytest.mark.parametrize("mode", ["off", "warn", "reject"])
def test_stow_follows_the_validation_setting(tmp_path: Path, mode: str) -> None:
    full, lacking = _objects()
    with live_server(tmp_path / "data", validation=mode) as (url, _):
        ok = httpx.post(
            url + "/studies", content=full, headers={"Content-Type": "application/dicom"}
        )
        assert ok.status_code == 200, ok.text
        body, headers = stow_body([lacking])
        answer = httpx.post(url + "/studies", content=body, headers=headers)
        found = httpx.get(url + "/instances", params={"SOPInstanceUID": "1.2.3.4.5"}).json()
    if mode == "off":
        assert answer.status_code == 200 and len(found) == 1
    elif mode == "warn":
        assert answer.status_code == 202, answer.text
        item = answer.json()["00081199"]["Value"][0]
        assert item[WARNING_REASON]["Value"] == [0xB007]
        reason = item[REASON_TEXT]["Value"][0]
        assert "ImagePositionPatient" in reason and "PatientName" in reason
        assert len(found) == 1
    else:
        assert answer.status_code == 409, answer.text
        item = answer.json()["00081198"]["Value"][0]
        assert item[FAILURE_REASON]["Value"] == [0xA900]
        assert "PatientName" in item[REASON_TEXT]["Value"][0]
        assert found == []


def test_an_unknown_validation_mode_is_refused_at_start(tmp_path: Path) -> None:
    from cloudpacs.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="validation"):
        load_settings(data_dir=tmp_path, validation="strict")
