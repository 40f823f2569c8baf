"""The probe the checks store is a valid Part-10 object marked with the checks' Patient ID,
with fresh UIDs each time and pixels a frame request can be compared with."""

from __future__ import annotations

import io

from pydicom import dcmread

from cloudpacs.multipart import MultipartParser, boundary_of
from cloudpacs.release_checks.probe import CHECK_PATIENT_ID, make_probe


def test_probe_is_a_valid_marked_instance() -> None:
    probe = make_probe()
    ds = dcmread(io.BytesIO(probe.part10))
    assert ds.PatientID == CHECK_PATIENT_ID
    assert (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID) == (
        probe.study, probe.series, probe.instance,
    )  # fmt: skip
    assert ds.PixelData == probe.pixels and len(probe.pixels) == ds.Rows * ds.Columns
    assert make_probe().study != probe.study


def test_stow_body_is_one_dicom_part() -> None:
    probe = make_probe()
    body, content_type = probe.stow_body()
    assert content_type.startswith('multipart/related; type="application/dicom"')
    parser = MultipartParser(boundary_of(content_type))
    parser.feed(body)
    (part,) = parser.close()
    assert part.content_type == "application/dicom" and part.body == probe.part10
