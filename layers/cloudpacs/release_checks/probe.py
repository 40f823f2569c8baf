"""The probe instance the release checks store: a tiny, valid Secondary Capture image with
fresh UIDs, marked by its Patient ID so that leftovers of an interrupted run can be found and
deleted (`cloudpacs.release_checks.cleanup`)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from cloudpacs.multipart import encode_parts, new_boundary

CHECK_PATIENT_ID = "CLOUDPACS-RELEASE-CHECK"
"""Patient ID of every instance the checks store; no real patient carries it."""
ROWS = COLUMNS = 8


@dataclass(frozen=True)
class Probe:
    study: str
    series: str
    instance: str
    part10: bytes
    pixels: bytes

    def stow_body(self) -> tuple[bytes, str]:
        """The STOW-RS request body and its Content-Type (PS3.18 §10.5.1.1)."""
        boundary = new_boundary()
        body = b"".join(encode_parts([("application/dicom", [self.part10])], boundary))
        return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def make_probe(number: int = 1) -> Probe:
    """One 8×8 8-bit MONOCHROME2 image, Explicit VR Little Endian, new UIDs."""
    study, series, sop = generate_uid(), generate_uid(), generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.PatientName = "Release^Check"
    ds.PatientID = CHECK_PATIENT_ID
    ds.StudyDate = "20260101"
    ds.StudyTime = "000000"
    ds.AccessionNumber = "CHECK"
    ds.StudyID = "1"
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    pixels = bytes((i * 4 + number) % 256 for i in range(ROWS * COLUMNS))
    ds.PixelData = pixels
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return Probe(study, series, sop, out.getvalue(), pixels)
