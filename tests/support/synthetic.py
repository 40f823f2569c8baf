"""Synthetic but valid DICOM objects: CT studies of any size, for tests and benchmarks."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


@dataclass(frozen=True)
class Patient:
    name: str = "Doe^Jane"
    patient_id: str = "PID-0001"
    birth_date: str = "19700101"
    sex: str = "F"


def ct_instance(
    study_uid: str,
    series_uid: str,
    number: int,
    *,
    patient: Patient = Patient(),
    rows: int = 512,
    columns: int = 512,
    study_date: str = "20260101",
    accession: str = "ACC-0001",
    modality: str = "CT",
    series_number: int = 1,
    sop_uid: str | None = None,
    frames: int = 1,
) -> bytes:
    """One Part-10 CT image (16-bit, ``rows``×``columns``×``frames``) in Explicit VR LE."""
    sop = sop_uid or generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.AccessionNumber = accession
    ds.ReferringPhysicianName = "Ref^Doctor"
    ds.StudyID = "1"
    ds.StudyDescription = "CT CHEST"
    ds.Modality = modality
    ds.SeriesNumber = series_number
    ds.SeriesDescription = "AXIAL"
    ds.InstanceNumber = number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Rows = rows
    ds.Columns = columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    if frames > 1:
        ds.NumberOfFrames = frames
    rng = np.random.default_rng(number)
    pixels = rng.integers(0, 4096, size=(frames, rows, columns), dtype=np.uint16)
    ds.PixelData = pixels.tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def ct_study(
    instances: int, *, series: int = 1, patient: Patient = Patient(), **kwargs: object
) -> tuple[str, list[bytes]]:
    """A study of ``instances`` CT images spread over ``series`` series."""
    study_uid = generate_uid()
    series_uids = [generate_uid() for _ in range(series)]
    objects = [
        ct_instance(
            study_uid,
            series_uids[i % series],
            i + 1,
            patient=patient,
            series_number=(i % series) + 1,
            **kwargs,  # type: ignore[arg-type]
        )
        for i in range(instances)
    ]
    return study_uid, objects
