"""Small DICOM objects for the DIMSE tests: generated CT series and compressed samples."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


@dataclass(frozen=True)
class Study:
    study_uid: str
    series_uid: str
    patient_id: str
    files: tuple[Path, ...]

    @property
    def sop_uids(self) -> list[str]:
        return [dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in self.files]


def ct_instance(
    study_uid: str,
    series_uid: str,
    number: int,
    *,
    patient_id: str = "PAT-1",
    patient_name: str = "Doe^Jane",
    study_date: str = "20240105",
    rows: int = 16,
) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    sop = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.AccessionNumber = f"ACC-{study_uid[-6:]}"
    ds.StudyID = "1"
    ds.StudyDescription = "CT chest"
    ds.Modality = "CT"
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.Rows = rows
    ds.Columns = rows
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = bytes((number + i) % 256 for i in range(rows * rows * 2))
    return ds


def write_study(folder: Path, count: int = 3, **attrs: str) -> Study:
    folder.mkdir(parents=True, exist_ok=True)
    study_uid, series_uid = generate_uid(), generate_uid()
    files = []
    for n in range(1, count + 1):
        ds = ct_instance(study_uid, series_uid, n, **attrs)  # type: ignore[arg-type]
        path = folder / f"ct{n:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return Study(study_uid, series_uid, attrs.get("patient_id", "PAT-1"), tuple(files))


def part10(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def compressed_sample(name: str, folder: Path) -> Path:
    """A pydicom test file (JPEG 2000, RLE, JPEG-LS, ...) under fresh UIDs, still compressed."""
    source = get_testdata_file(name)
    assert source is not None, name
    ds = dcmread(source)
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    ds.save_as(path, enforce_file_format=True)
    return path


def dataset_bytes(part10_bytes: bytes) -> bytes:
    """The data set of a Part-10 object: everything after the File Meta Information."""
    meta_length = int.from_bytes(part10_bytes[140:144], "little")
    return part10_bytes[144 + meta_length :]
