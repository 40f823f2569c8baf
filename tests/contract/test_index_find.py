"""Index.find_studies: a superset of the matches for each kind of key (model.StudyKeys).

The query service re-applies the exact matching rules, so the contract is containment: every
study the keys describe comes back, once, as the same record ``get_study`` reads.
"""

from __future__ import annotations

import pytest

from cloudpacs.dicom.names import normalize_name
from cloudpacs.model import StudyKeys

from .conftest import Adapters
from .records import entry
from .records import uid as u

# study -> (PatientID, PatientName, StudyDate, AccessionNumber)
CATALOGUE: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    u(10, 1): ("PAT-1", "Doe^Jane", "20240115", "ACC-1"),
    u(10, 2): ("PAT-1", "Doe^Jane", "20230301", "ACC-2"),
    u(10, 3): ("PAT-2", "Müller^Hans", "20240116", "ACC-3"),
    u(10, 4): ("PAT-3", "Smith^John^^Dr", None, "ACC-4"),
    u(10, 5): ("PAT-4", "O'Brien^Mary=オブライエン", "19991231", None),
    u(10, 6): (None, None, "20240115", "ACC-6"),
}
S1, S2, S3, S4, S5, S6 = CATALOGUE


@pytest.fixture
def catalogue(adapters: Adapters) -> Adapters:
    for n, (study, (pid, name, date, acc)) in enumerate(CATALOGUE.items()):
        e = entry(study, u(11, n), u(11, n, 1), patient_id=pid, name=name, date=date, accession=acc)
        adapters.index.add_instance(e, replace=False)
    return adapters


CASES = {
    "study uids": (StudyKeys(study_uids=(S1, S3, u(99))), {S1, S3}),
    "patient id": (StudyKeys(patient_id="PAT-1"), {S1, S2}),
    "accession": (StudyKeys(accession_number="ACC-3"), {S3}),
    "closed date range": (StudyKeys(study_date=("20240101", "20241231")), {S1, S3, S6}),
    "one day": (StudyKeys(study_date=("20240115", "20240115")), {S1, S6}),
    "open lower end": (StudyKeys(study_date=("", "20231231")), {S2, S5}),
    "open upper end": (StudyKeys(study_date=("20240116", "99991231")), {S3}),
    "both ends open": (StudyKeys(study_date=("", "99991231")), {S1, S2, S3, S5, S6}),
    "patient id in range": (
        StudyKeys(patient_id="PAT-1", study_date=("20240101", "20240131")),
        {S1},
    ),
    "accession and dates": (
        StudyKeys(accession_number="ACC-2", study_date=("", "20231231")),
        {S2},
    ),
    "name prefix": (StudyKeys(patient_name_prefix=normalize_name("doe")), {S1, S2}),
    "accented name": (StudyKeys(patient_name_prefix=normalize_name("Mül")), {S3}),
    "unaccented query": (StudyKeys(patient_name_prefix=normalize_name("mul")), {S3}),
    "name with apostrophe": (StudyKeys(patient_name_prefix=normalize_name("O'Bri")), {S5}),
    "family and given": (StudyKeys(patient_name_prefix=normalize_name("SMITH^J")), {S4}),
    "name and dates": (
        StudyKeys(patient_name_prefix="doe", study_date=("20240101", "20241231")),
        {S1},
    ),
    "nothing": (StudyKeys(), set(CATALOGUE)),
}


@pytest.mark.parametrize("keys, expected", CASES.values(), ids=CASES.keys())
def test_find_studies_returns_a_superset(
    catalogue: Adapters, keys: StudyKeys, expected: set[str]
) -> None:
    found = list(catalogue.index.find_studies(keys))
    uids = [s.study_uid for s in found]
    assert len(uids) == len(set(uids)), "each study at most once"
    assert expected <= set(uids)
    for study in found:
        assert study == catalogue.index.get_study(study.study_uid)


def test_find_studies_lists_more_than_one_batch(adapters: Adapters) -> None:
    uids = {u(12, n) for n in range(101)}
    for n, study in enumerate(sorted(uids)):
        adapters.index.add_instance(entry(study, u(12, n, 1), u(12, n, 1, 1)), replace=False)
    assert {s.study_uid for s in adapters.index.find_studies(StudyKeys())} == uids
    same_patient = StudyKeys(patient_id="PAT-1")
    assert {s.study_uid for s in adapters.index.find_studies(same_patient)} == uids


def test_empty_study_uid_list_finds_nothing(catalogue: Adapters) -> None:
    assert list(catalogue.index.find_studies(StudyKeys(study_uids=()))) == []
