"""Required return attributes of search results (``services.return_keys``; PS3.18 Tables
10.6.3-3 to 10.6.3-5): present in every result, empty when the archive has no value, and an
empty Modalities in Study as one null value (the form OHIF's study list can read)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from cloudpacs.dicom import attributes as A
from cloudpacs.dicom.attributes import Level
from cloudpacs.runtime import Services, build_services
from cloudpacs.services.query_model import parse_qido
from cloudpacs.services.return_keys import REQUIRED, with_required
from cloudpacs.settings import load_settings

from .instances import instance

MODALITIES = A.tag_hex("ModalitiesInStudy")
STUDY_REQUIRED = set(A.tags_of(REQUIRED[Level.STUDY]))
SERIES_REQUIRED = set(A.tags_of(REQUIRED[Level.SERIES]))
INSTANCE_REQUIRED = set(A.tags_of(REQUIRED[Level.INSTANCE]))
SC_BARE = {  # a Secondary Capture image without the attributes it may leave out
    "source": "SC_rgb.dcm",
    "Modality": None,
    "StudyDate": None,
    "StudyTime": None,
    "AccessionNumber": None,
    "ReferringPhysicianName": None,
    "StudyID": None,
    "SeriesNumber": None,
    "InstanceNumber": None,
}


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return build_services(load_settings(data_dir=tmp_path, fsync=False))


def _search(services: Services, level: Level, **scope: str) -> list[dict[str, dict[str, object]]]:
    return services.query.search(parse_qido([], level, **scope)).items


def test_study_without_modality_lists_every_required_attribute(services: Services) -> None:
    assert services.ingest.store(instance(**SC_BARE)).ok
    (study,) = _search(services, Level.STUDY)
    assert set(study) >= STUDY_REQUIRED
    assert study[MODALITIES] == {"vr": "CS", "Value": [None]}
    for keyword in ("StudyDate", "StudyTime", "AccessionNumber", "StudyID"):
        tag = A.tag_hex(keyword)
        assert study[tag] == {"vr": pydicom.datadict.dictionary_VR(keyword)}, keyword
    assert list(study) == sorted(study)  # PS3.18 §F.2.2: attributes in tag order
    # PS3.5: one empty value and a zero-length value are the same element.
    decoded = pydicom.Dataset.from_json(study)
    assert decoded.ModalitiesInStudy == "" and decoded.StudyDate == ""


def test_series_and_instances_carry_their_levels_required_attributes(services: Services) -> None:
    assert services.ingest.store(instance(**SC_BARE)).ok
    (series,) = _search(services, Level.SERIES)
    assert set(series) >= SERIES_REQUIRED | STUDY_REQUIRED  # all series: study attributes too
    assert series[A.tag_hex("Modality")] == {"vr": "CS"}
    assert series[A.tag_hex("SeriesNumber")] == {"vr": "IS"}
    study_uid = series[A.tag_hex("StudyInstanceUID")]["Value"][0]  # type: ignore[index]
    (scoped,) = _search(services, Level.INSTANCE, study_uid=str(study_uid))
    assert set(scoped) >= INSTANCE_REQUIRED | SERIES_REQUIRED
    assert not (STUDY_REQUIRED - {A.tag_hex("StudyInstanceUID")}) & set(scoped)
    assert scoped[A.tag_hex("InstanceNumber")] == {"vr": "IS"}


def test_known_values_are_kept_and_modalities_listed(services: Services) -> None:
    study_uid = pydicom.uid.generate_uid()
    assert services.ingest.store(instance(study_uid, Modality="CT", StudyDate="20240110")).ok
    assert services.ingest.store(instance(study_uid, source="SC_rgb.dcm", Modality=None)).ok
    (study,) = _search(services, Level.STUDY)
    assert study[MODALITIES] == {"vr": "CS", "Value": ["CT"]}
    assert study[A.tag_hex("StudyDate")] == {"vr": "DA", "Value": ["20240110"]}
    assert study[A.tag_hex("NumberOfStudyRelatedSeries")]["Value"] == [2]


def test_matching_on_modalities_still_sees_the_empty_value(services: Services) -> None:
    assert services.ingest.store(instance(**SC_BARE)).ok
    found = services.query.search(parse_qido([("ModalitiesInStudy", "CT")], Level.STUDY))
    assert found.items == []


def test_with_required_fills_only_what_is_missing() -> None:
    result = {A.tag_hex("PatientID"): {"vr": "LO", "Value": ["P1"]}}
    completed = with_required(result, (Level.STUDY,))
    assert set(completed) == STUDY_REQUIRED
    assert completed[A.tag_hex("PatientID")] == {"vr": "LO", "Value": ["P1"]}
    assert completed[A.tag_hex("PatientName")] == {"vr": "PN"}
    assert completed[MODALITIES] == {"vr": "CS", "Value": [None]}
    assert result == {A.tag_hex("PatientID"): {"vr": "LO", "Value": ["P1"]}}  # not changed
