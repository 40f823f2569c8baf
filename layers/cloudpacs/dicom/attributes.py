"""Which attributes the index keeps at each level, and which QIDO-RS returns by default.

Defaults follow PS3.18 §10.6.3.3 (Tables 10.6.3-3, -4, -5): the attributes an origin server
returns for a study, series or instance search when no ``includefield`` asks for more. The
index keeps those plus the usual matching keys of PS3.18 Table 10.6.1-5 and a few attributes
that study lists in viewers show, so that ``includefield=all`` has something useful to add.
"""

from __future__ import annotations

from enum import StrEnum

from pydicom.datadict import tag_for_keyword


class Level(StrEnum):
    STUDY = "STUDY"
    SERIES = "SERIES"
    INSTANCE = "IMAGE"


PATIENT_ATTRIBUTES = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
)

STUDY_ATTRIBUTES = (
    *PATIENT_ATTRIBUTES,
    "SpecificCharacterSet",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ReferringPhysicianName",
    "TimezoneOffsetFromUTC",
    "StudyDescription",
    "StudyInstanceUID",
    "StudyID",
)

SERIES_ATTRIBUTES = (
    "Modality",
    "SeriesDescription",
    "SeriesInstanceUID",
    "SeriesNumber",
    "SeriesDate",
    "SeriesTime",
    "BodyPartExamined",
    "Laterality",
    "ProtocolName",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "RequestAttributesSequence",
)

INSTANCE_ATTRIBUTES = (
    "SOPClassUID",
    "SOPInstanceUID",
    "InstanceNumber",
    "Rows",
    "Columns",
    "BitsAllocated",
    "NumberOfFrames",
    "ContentDate",
    "ContentTime",
    "ImageType",
    "AcquisitionNumber",
)

# Computed at query time from the index's aggregates (PS3.18 Table 10.6.3-3/-4).
COMPUTED_STUDY = (
    "ModalitiesInStudy",
    "SOPClassesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)
COMPUTED_SERIES = ("NumberOfSeriesRelatedInstances",)
RETRIEVE_AND_AVAILABILITY = ("RetrieveURL", "InstanceAvailability")

DEFAULT_STUDY_RESULT = (
    "SpecificCharacterSet",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "InstanceAvailability",
    "ModalitiesInStudy",
    "ReferringPhysicianName",
    "TimezoneOffsetFromUTC",
    "RetrieveURL",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyID",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)
DEFAULT_SERIES_RESULT = (
    "SpecificCharacterSet",
    "Modality",
    "TimezoneOffsetFromUTC",
    "SeriesDescription",
    "RetrieveURL",
    "SeriesInstanceUID",
    "SeriesNumber",
    "NumberOfSeriesRelatedInstances",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "RequestAttributesSequence",
)
DEFAULT_INSTANCE_RESULT = (
    "SpecificCharacterSet",
    "SOPClassUID",
    "SOPInstanceUID",
    "InstanceAvailability",
    "TimezoneOffsetFromUTC",
    "RetrieveURL",
    "InstanceNumber",
    "Rows",
    "Columns",
    "BitsAllocated",
    "NumberOfFrames",
)

STORED_AT_LEVEL: dict[Level, tuple[str, ...]] = {
    Level.STUDY: STUDY_ATTRIBUTES,
    Level.SERIES: SERIES_ATTRIBUTES,
    Level.INSTANCE: INSTANCE_ATTRIBUTES,
}


def tag_hex(keyword: str) -> str:
    """The 8-digit upper-case hex tag of a dictionary keyword."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return f"{tag:08X}"


def tags_of(keywords: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(tag_hex(k) for k in keywords)
