"""Keyed pseudonyms: determinism, key sensitivity, UID form, and referential integrity.

PS3.15 E.1.1 item 2 note 3: "It is the responsibility of the de-identifier to ensure the
consistency of dummy values for Attributes such as Study Instance UID (0020,000D) or Frame of
Reference UID (0020,0052) if multiple related SOP Instances are protected. Indeed, all
Attributes of every entity above the Instance level should remain consistent for all
Instances protected, e.g., Patient ID for the Patient entity".
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from pathlib import Path

import pydicom
import pytest
from pydicom.data import data_manager
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from cloudpacs.deid import Profile, deidentify
from cloudpacs.deid.pseudonym import Pseudonymizer, patient_key
from cloudpacs.uids import is_valid_uid

from .builders import ct_dataset
from .conftest import OTHER_SECRET, SECRET, CorpusFile

UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


def test_pseudonym_scheme_is_stable() -> None:
    """Changing these values would break linkage with every copy made before: the scheme
    (HMAC-SHA256, purpose-separated, 2.25 UIDs) is part of the stored data's contract."""
    names = Pseudonymizer(b"0" * 32)
    key = patient_key("MRN1", "", "Doe^Jane", "19700101")
    assert names.uid("1.2.3") == "2.25.317200122320568511094500231909765825848"
    assert names.patient_id(key) == "PSNIZ2S6N35S2RRUXHWW54K"
    assert names.patient_name(key) == "PSEUDONYM^PSNIZ2S6N35S2RRUXHWW54K"
    assert names.date_offset_days(key) == -3102


def test_secret_must_be_long_enough() -> None:
    with pytest.raises(ValueError):
        Pseudonymizer(b"short")
    with pytest.raises(ValueError):
        deidentify(ct_dataset(), Profile(), b"short")


def _ref(uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = uid
    return item


def _two_studies() -> list[Dataset]:
    """One patient, study A (two series, three instances) and study B 30 days later."""
    study = "1.9.1"
    a1 = ct_dataset(StudyInstanceUID=study, SeriesInstanceUID="1.9.1.1", SOPInstanceUID="1.9.1.11")
    a2 = ct_dataset(StudyInstanceUID=study, SeriesInstanceUID="1.9.1.1", SOPInstanceUID="1.9.1.12")
    a3 = ct_dataset(StudyInstanceUID=study, SeriesInstanceUID="1.9.1.2", SOPInstanceUID="1.9.1.21")
    b1 = ct_dataset(
        StudyInstanceUID="1.9.2",
        SeriesInstanceUID="1.9.2.1",
        SOPInstanceUID="1.9.2.1.1",
        FrameOfReferenceUID="1.9.2.9",
        StudyDate="20040218",
    )
    for ds in (a1, a2, a3):
        ds.FrameOfReferenceUID = "1.9.1.9"
    a2.ReferencedImageSequence = Sequence([_ref("1.9.1.11")])
    a3.SourceImageSequence = Sequence([_ref("1.9.1.11"), _ref("1.9.1.12")])
    b1.ReferencedImageSequence = Sequence([_ref("1.9.1.11")])
    return [a1, a2, a3, b1]


@pytest.mark.parametrize("preset", ["basic", "retain_longitudinal"])
def test_structure_and_references_survive_within_and_across_studies(preset: str) -> None:
    a1, a2, a3, b1 = (deidentify(ds, Profile.preset(preset), SECRET) for ds in _two_studies())
    assert a1.StudyInstanceUID == a2.StudyInstanceUID == a3.StudyInstanceUID
    assert b1.StudyInstanceUID != a1.StudyInstanceUID
    assert a1.SeriesInstanceUID == a2.SeriesInstanceUID != a3.SeriesInstanceUID
    assert a1.FrameOfReferenceUID == a3.FrameOfReferenceUID != b1.FrameOfReferenceUID
    assert len({a1.SOPInstanceUID, a2.SOPInstanceUID, a3.SOPInstanceUID, b1.SOPInstanceUID}) == 4
    assert a2.ReferencedImageSequence[0].ReferencedSOPInstanceUID == a1.SOPInstanceUID
    sources = [i.ReferencedSOPInstanceUID for i in a3.SourceImageSequence]
    assert sources == [a1.SOPInstanceUID, a2.SOPInstanceUID]
    assert b1.ReferencedImageSequence[0].ReferencedSOPInstanceUID == a1.SOPInstanceUID
    for ds in (a1, a2, a3, b1):
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert a1.PatientID == b1.PatientID and a1.PatientName == b1.PatientName
    assert str(a1.PatientName) == f"PSEUDONYM^{a1.PatientID}"


def test_modified_dates_keep_the_interval_between_studies() -> None:
    """E.3.6: the modification "preserves the gross longitudinal temporal relationships
    between images obtained on different dates"."""
    profile = Profile.preset("retain_longitudinal")
    a1, *_, b1 = (deidentify(ds, profile, SECRET) for ds in _two_studies())

    def d(s: str) -> datetime.date:
        return datetime.date(int(s[:4]), int(s[4:6]), int(s[6:8]))

    assert (d(b1.StudyDate) - d(a1.StudyDate)).days == 30
    assert a1.StudyDate != "20040119"


def test_a_different_key_gives_different_pseudonyms() -> None:
    profile = Profile.preset("retain_longitudinal")
    one = deidentify(ct_dataset(), profile, SECRET)
    other = deidentify(ct_dataset(), profile, OTHER_SECRET)
    for keyword in (*UID_KEYWORDS, "PatientID", "PatientName", "StudyDate"):
        assert one[keyword].value != other[keyword].value, keyword
    again = deidentify(ct_dataset(), profile, SECRET)
    assert again.to_json_dict() == one.to_json_dict()


def test_different_patients_get_different_pseudonyms_and_offsets() -> None:
    profile = Profile.preset("retain_longitudinal")
    offsets, ids = set(), set()
    for n in range(8):
        out = deidentify(ct_dataset(PatientID=f"MRN{n:05d}"), profile, SECRET)
        ids.add(out.PatientID)
        offsets.add(out.StudyDate)
    assert len(ids) == 8 and len(offsets) > 1


def _uids(ds: Dataset) -> dict[str, str]:
    return {k: str(ds[k].value) for k in UID_KEYWORDS if k in ds}


def _assert_one_to_one(pairs: list[tuple[Dataset, Dataset]]) -> None:
    forward: dict[str, set[str]] = defaultdict(set)
    backward: dict[str, set[str]] = defaultdict(set)
    for original, output in pairs:
        before, after = _uids(original), _uids(output)
        for keyword, old in before.items():
            new = after[keyword]
            assert new != old and re.fullmatch(r"2\.25\.[1-9][0-9]*", new) and is_valid_uid(new)
            forward[old].add(new)
            backward[new].add(old)
    assert all(len(v) == 1 for v in forward.values())  # same original, same replacement
    assert all(len(v) == 1 for v in backward.values())  # different originals stay apart


def test_uids_are_consistent_across_the_whole_corpus(corpus: list[CorpusFile], outputs) -> None:
    results = outputs("basic")
    _assert_one_to_one([(f.dataset, results[f.name][1]) for f in corpus])


def test_uids_are_consistent_in_a_real_multi_study_set() -> None:
    """pydicom's dicomdirtests: several patients, studies and series (datasets without
    File Meta, so read with force and de-identified through the dataset API)."""
    root = Path(data_manager.DATA_ROOT) / "test_files" / "dicomdirtests"
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.name != "DICOMDIR"]
    originals = [pydicom.dcmread(p, force=True) for p in files]
    pairs = [(ds, deidentify(ds, Profile(), SECRET)) for ds in originals]
    assert len(pairs) > 30
    _assert_one_to_one(pairs)
    by_patient: dict[str, set[str]] = defaultdict(set)
    for original, output in pairs:
        if original.get("PatientID"):
            by_patient[str(original.PatientID)].add(str(output.PatientID))
    assert len(by_patient) > 1 and all(len(v) == 1 for v in by_patient.values())
