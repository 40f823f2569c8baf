"""Patient-level search results (PS3.4 C.6.1.1.2, Patient Root) from study-level matches.

The archive indexes studies, so a patient is a group of matching studies with one
(PatientID, IssuerOfPatientID): the patient attributes come from the newest study (results
arrive newest first) and the ``NumberOfPatientRelated*`` counts are summed over the group.
"""

from __future__ import annotations

from collections.abc import Iterable

from cloudpacs.dicom import attributes as A
from cloudpacs.model import JsonDataset
from cloudpacs.study_keys import first_value

PATIENT_COUNTS = (
    "NumberOfPatientRelatedStudies",
    "NumberOfPatientRelatedSeries",
    "NumberOfPatientRelatedInstances",
)
_PATIENT_TAGS = frozenset(A.tags_of(A.PATIENT_ATTRIBUTES))
_CARRIED = A.tags_of(("SpecificCharacterSet", "TimezoneOffsetFromUTC"))


def _count(study: JsonDataset, keyword: str) -> int:
    try:
        return int(first_value(study, A.tag_hex(keyword)) or 0)
    except ValueError:
        return 0


def group_by_patient(studies: Iterable[JsonDataset]) -> list[JsonDataset]:
    """One patient-level view per (PatientID, IssuerOfPatientID), newest study first."""
    patients: dict[tuple[str, str], JsonDataset] = {}
    totals: dict[tuple[str, str], list[int]] = {}
    for study in studies:
        key = (
            first_value(study, A.tag_hex("PatientID")) or "",
            first_value(study, A.tag_hex("IssuerOfPatientID")) or "",
        )
        if key not in patients:
            view = {t: v for t, v in study.items() if t in _PATIENT_TAGS}
            view.update({t: study[t] for t in _CARRIED if t in study})
            patients[key] = view
            totals[key] = [0, 0, 0]
        counts = totals[key]
        counts[0] += 1
        counts[1] += _count(study, "NumberOfStudyRelatedSeries")
        counts[2] += _count(study, "NumberOfStudyRelatedInstances")
    for key, view in patients.items():
        for keyword, count in zip(PATIENT_COUNTS, totals[key], strict=True):
            view[A.tag_hex(keyword)] = {"vr": "IS", "Value": [count]}
    return list(patients.values())
