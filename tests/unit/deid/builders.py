"""Small instances with known identifying content, built on pydicom's CT_small.dcm."""

from __future__ import annotations

import warnings

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

PATIENT = {
    "PatientName": "Doe^Jane^Q",
    "PatientID": "MRN12345",
    "IssuerOfPatientID": "GENERAL-HOSP",
    "PatientBirthDate": "19700101",
    "PatientSex": "F",
    "PatientAge": "054Y",
    "PatientWeight": "70.5",
    "PatientSize": "1.65",
}
STUDY = {
    "StudyDate": "20040119",
    "SeriesDate": "20040119",
    "AcquisitionDate": "20040119",
    "ContentDate": "20040119",
    "AcquisitionDateTime": "20040119101500.000000",
    "StudyTime": "101010",
    "AcquisitionTime": "101500",
    "AccessionNumber": "ACC-778899",
    "StudyID": "ST4455",
    "InstitutionName": "St Elsewhere General",
    "InstitutionAddress": "1 Hospital Road, Springfield",
    "StationName": "CTSTATION7",
    "DeviceSerialNumber": "SN-998877",
    "ReferringPhysicianName": "Smith^John",
    "StudyDescription": "CT chest for Doe Jane 20040119",
    "SeriesDescription": "Axial MRN12345 soft tissue",
}


def code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def ct_dataset(**overrides: str) -> Dataset:
    """CT_small.dcm with the identifying attributes above (a fresh copy each call)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for keyword, value in {**PATIENT, **STUDY, **overrides}.items():
        setattr(ds, keyword, value)
    return ds


def content_item(value_type: str, concept: Dataset, **values: object) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = value_type
    item.ConceptNameCodeSequence = Sequence([concept])
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def sr_dataset() -> Dataset:
    """A Comprehensive SR whose content tree names the patient and an observer."""
    ds = ct_dataset()
    del ds.PixelData
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.Modality = "SR"
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code("18748-4", "LN", "Diagnostic Imaging Report")])
    ds.ContentSequence = Sequence(
        [
            content_item(
                "TEXT",
                code("121071", "DCM", "Finding"),
                TextValue="Nodule 8 mm, seen by Dr Smith; patient Doe Jane MRN12345",
            ),
            content_item(
                "TEXT",
                code("N1", "99LOCAL", "Technologist note"),
                TextValue="Called Doe Jane at home, contrast ok",
            ),
            content_item(
                "PNAME", code("121008", "DCM", "Person Observer Name"), PersonName="Smith^John"
            ),
            content_item("DATE", code("121031", "DCM", "Subject Birth Date"), Date="19700101"),
            content_item("NUM", code("121206", "DCM", "Distance"), MeasuredValueSequence=[]),
        ]
    )
    return ds
