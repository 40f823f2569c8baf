"""What the browser test stores: a CT series made from pydicom's CT image, and studies of the
pydicom corpus, among them studies whose instances have no Modality (Secondary Capture, where
PS3.3's SC Equipment Module makes it optional)."""

from __future__ import annotations

import io

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from tests.support.corpus import corpus, unique_batches

CT_DESCRIPTION = "Browser CT series"
CORPUS_STUDIES_OF = (
    "SC_jpeg_no_color_transform.dcm",
    "SC_rgb_jpeg_app14_dcmd.dcm",
    "GDCMJ2K_TextGBR.dcm",
    "MR_small.dcm",
    "rtplan.dcm",
    "US1_J2KR.dcm",
)
"""Files whose whole studies (every file of the corpus in the same study) are stored."""


def ct_series(slices: int = 4) -> list[bytes]:
    """``slices`` images of pydicom's ``CT_small.dcm`` as one series of a new study."""
    path = get_testdata_file("CT_small.dcm")
    assert path is not None
    study, series = generate_uid(), generate_uid()
    out = []
    for number in range(1, slices + 1):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.StudyDescription = CT_DESCRIPTION
        ds.InstanceNumber = number
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y, z + 5.0 * number]
        ds.SliceLocation = z + 5.0 * number
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        out.append(buffer.getvalue())
    return out


def corpus_studies() -> list[bytes]:
    """Every file (one of each SOP Instance UID) of the studies named by ``CORPUS_STUDIES_OF``."""
    files = unique_batches(corpus())[0]
    studies = {f.study_uid for f in files if f.path.name in CORPUS_STUDIES_OF}
    assert len(studies) >= 4, "pydicom-data should provide these files"
    return [f.data for f in files if f.study_uid in studies]
