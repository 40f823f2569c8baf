"""The study-level values every index keys its search paths on (DESIGN.md §4).

Both adapters call ``index_fields`` so that the SQLite columns and the DynamoDB GSI keys
hold the same values: PatientID, AccessionNumber, StudyDate and the normalized PatientName.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudpacs.dicom.attributes import tag_hex
from cloudpacs.dicom.names import normalize_name
from cloudpacs.model import JsonDataset

PATIENT_ID = tag_hex("PatientID")
ACCESSION_NUMBER = tag_hex("AccessionNumber")
STUDY_DATE = tag_hex("StudyDate")
PATIENT_NAME = tag_hex("PatientName")


@dataclass(frozen=True)
class StudyIndexFields:
    patient_id: str | None
    accession_number: str | None
    study_date: str | None
    name_norm: str | None


def first_value(attrs: JsonDataset, tag: str) -> str | None:
    """The first value of ``tag`` as text (PN: its alphabetic group), or None if empty."""
    values = attrs.get(tag, {}).get("Value")
    if not values:
        return None
    value = values[0]
    if isinstance(value, dict):
        value = value.get("Alphabetic")
    if value is None or value == "":
        return None
    return str(value)


def index_fields(study_attrs: JsonDataset) -> StudyIndexFields:
    name = first_value(study_attrs, PATIENT_NAME)
    return StudyIndexFields(
        patient_id=first_value(study_attrs, PATIENT_ID),
        accession_number=first_value(study_attrs, ACCESSION_NUMBER),
        study_date=first_value(study_attrs, STUDY_DATE),
        name_norm=normalize_name(name) if name else None,
    )
