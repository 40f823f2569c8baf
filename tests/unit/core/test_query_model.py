"""QIDO-RS query parameters (PS3.18 §8.3.4) parsed into a ``Query`` (``services.query_model``)."""

from __future__ import annotations

import pytest

from cloudpacs.dicom.attributes import Level
from cloudpacs.errors import BadRequest
from cloudpacs.services.matching import MatchKey
from cloudpacs.services.query_model import parse_qido, resolve_attribute

from .dicom_json import tag


@pytest.mark.parametrize(
    ("attribute_id", "path", "vr"),
    [
        ("PatientName", ("00100010",), "PN"),
        ("00100010", ("00100010",), "PN"),
        ("0020000d", ("0020000D",), "UI"),
        ("StudyDate", ("00080020",), "DA"),
        ("RequestAttributesSequence.RequestedProcedureID", ("00400275", "00401001"), "SH"),
        ("00400275.00401001", ("00400275", "00401001"), "SH"),
        ("00400275.ScheduledProcedureStepID", ("00400275", "00400009"), "SH"),
        ("Rows", ("00280010",), "US"),
    ],
)
def test_attribute_ids_are_keywords_tags_or_dotted_paths(
    attribute_id: str, path: tuple[str, ...], vr: str
) -> None:
    """PS3.18 §8.3.4.1: attributeID = dicomtag / dicomkeyword, with "." between the
    attributes of a sequence path."""
    assert resolve_attribute(attribute_id) == (path, vr)


@pytest.mark.parametrize(
    ("attribute_id", "reason"),
    [
        ("PatientNmae", "unknown attribute 'PatientNmae'"),
        ("patientname", "unknown attribute"),
        ("00991001", "unknown attribute"),
        ("PatientName.PatientID", "only sequences can have nested attributes"),
        ("RequestAttributesSequence", "match on an attribute inside the sequence"),
        ("", "unknown attribute"),
    ],
)
def test_unknown_or_unusable_attributes_are_bad_requests(attribute_id: str, reason: str) -> None:
    """PS3.18 §8.3: "If a supported Query Parameter has an invalid value, the origin server
    shall return a 400 (Bad Request)"; the reason names the attribute."""
    with pytest.raises(BadRequest) as caught:
        parse_qido([(attribute_id, "x")], Level.STUDY)
    assert reason in caught.value.reason
    assert caught.value.status == 400


def test_match_keys_keep_path_vr_and_value_and_the_scope() -> None:
    query = parse_qido(
        [
            ("PatientName", "Doe*"),
            ("RequestAttributesSequence.RequestedProcedureID", "RP1"),
            ("StudyDescription", ""),
        ],
        Level.SERIES,
        study_uid="1.2.3",
    )
    assert query.keys == (
        MatchKey(("00100010",), "PN", "Doe*"),
        MatchKey(("00400275", "00401001"), "SH", "RP1"),
        MatchKey(("00081030",), "LO", ""),
    )
    assert query.key(tag("PatientName")) == MatchKey(("00100010",), "PN", "Doe*")
    assert query.key(tag("RequestedProcedureID")) is None  # only top-level keys
    assert (query.level, query.study_uid, query.series_uid) == (Level.SERIES, "1.2.3", None)
    assert (query.limit, query.offset, query.fuzzy, query.include_all) == (None, 0, False, False)


def test_includefield_takes_lists_tags_paths_and_repeats() -> None:
    """PS3.18 §8.3.4.3: includefield={attributeID}, comma-separated, may be repeated."""
    query = parse_qido(
        [
            ("includefield", "StudyDescription, 00080090"),
            ("includefield", "RequestAttributesSequence.RequestedProcedureID"),
        ],
        Level.STUDY,
    )
    assert query.include == {
        tag("StudyDescription"),
        tag("ReferringPhysicianName"),
        tag("RequestAttributesSequence"),
    }
    assert not query.include_all
    assert parse_qido([("includefield", "all")], Level.STUDY).include_all
    assert parse_qido([("includefield", "StudyID,all")], Level.STUDY).include_all


def test_unknown_includefield_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="unknown attribute 'NoSuchThing'"):
        parse_qido([("includefield", "StudyID,NoSuchThing")], Level.STUDY)


@pytest.mark.parametrize(("value", "fuzzy"), [("true", True), ("false", False)])
def test_fuzzymatching(value: str, fuzzy: bool) -> None:
    assert parse_qido([("fuzzymatching", value)], Level.STUDY).fuzzy is fuzzy


@pytest.mark.parametrize("value", ["yes", "TRUE", "1", ""])
def test_fuzzymatching_other_values_are_bad_requests(value: str) -> None:
    with pytest.raises(BadRequest, match="fuzzymatching"):
        parse_qido([("fuzzymatching", value)], Level.STUDY)


def test_limit_and_offset() -> None:
    query = parse_qido([("limit", "10"), ("offset", "20")], Level.STUDY)
    assert (query.limit, query.offset) == (10, 20)
    assert parse_qido([("limit", "0")], Level.STUDY).limit == 0


@pytest.mark.parametrize("name", ["limit", "offset"])
@pytest.mark.parametrize("value", ["-1", "abc", "", "1.5", " 1", "²", "١٢"])
def test_limit_and_offset_must_be_non_negative_integers(name: str, value: str) -> None:
    """PS3.18 §8.3.4.4: limit and offset are non-negative integers; anything else is a 400
    (never a server error)."""
    with pytest.raises(BadRequest, match=f"{name} must be a non-negative integer"):
        parse_qido([(name, value)], Level.STUDY)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("StudyInstanceUID", "1.2.840.113619.2.55"),
        ("StudyInstanceUID", "1.2.3,1.2.4"),
        ("StudyInstanceUID", "1.2.3\\1.2.4"),
        ("StudyDate", "20200101"),
        ("StudyDate", "20200101-20201231"),
        ("StudyDate", "-20201231"),
        ("StudyDate", "20200101-"),
        ("StudyTime", "10"),
        ("StudyTime", "1015"),
        ("StudyTime", "101530.123456"),
        ("StudyTime", "10-1130"),
        ("AcquisitionDateTime", "2020"),
        ("AcquisitionDateTime", "2020-2021"),
        ("AcquisitionDateTime", "20200101-0500"),
        ("AcquisitionDateTime", "20200101101500.5+0100"),
        ("AcquisitionDateTime", "20200101000000-0500-20200101235959-0500"),
        ("AcquisitionDateTime", "-20200101+0100"),
        ("PatientName", "Doe^J*"),
        ("Modality", "C?"),
        ("RetrieveURL", "https://example.org/*"),
        ("InstanceNumber", "12"),
        ("SliceThickness", "1.25"),
        ("PatientID", ""),
        ("StudyDate", ""),
    ],
)
def test_valid_matching_values(name: str, value: str) -> None:
    assert parse_qido([(name, value)], Level.INSTANCE).keys[0].value == value


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("StudyInstanceUID", "1.2.abc", "invalid UID"),
        ("StudyInstanceUID", "1..2", "invalid UID"),
        ("StudyInstanceUID", "1." + "2" * 70, "invalid UID"),
        ("StudyInstanceUID", ",", "invalid UID"),
        ("StudyInstanceUID", "1.2.*", "invalid UID"),
        ("SOPInstanceUID", "1.2.3?", "invalid UID"),
        ("StudyDate", "2020-01-01", "not a valid DA"),
        ("StudyDate", "2020", "not a valid DA"),
        ("StudyDate", "20200101-20201231-20211231", "not a valid DA"),
        ("StudyDate", "-", "not a valid DA"),
        ("StudyDate", "2020*", "not a valid DA"),
        ("StudyTime", "1", "not a valid TM"),
        ("StudyTime", "10:15", "not a valid TM"),
        ("StudyTime", "1015+0100", "not a valid TM"),
        ("AcquisitionDateTime", "2020*", "not a valid DT"),
        ("AcquisitionDateTime", "20201301", "not a valid DT"),
        ("AcquisitionDateTime", "20200101+1500", "not a valid DT"),
        ("AcquisitionDateTime", "-", "not a valid DT"),
        ("InstanceNumber", "1*", "wildcards are not allowed for VR IS"),
        ("PatientAge", "04?Y", "wildcards are not allowed for VR AS"),
        ("InstanceNumber", "abc", "not a number"),
        ("SliceThickness", "1.2.3", "not a number"),
    ],
)
def test_invalid_matching_values_are_bad_requests(name: str, value: str, reason: str) -> None:
    """PS3.4 C.2.2.2: wild cards only for AE, CS, LO, LT, PN, SH, ST, UC, UR, UT (C.2.2.2.4);
    UID lists of valid UIDs (C.2.2.2.2, PS3.5 §9.1); ranges of DA, TM, DT (C.2.2.2.5).
    PS3.18 §8.3: a supported Query Parameter with an invalid value is a 400."""
    with pytest.raises(BadRequest) as caught:
        parse_qido([(name, value)], Level.INSTANCE)
    assert reason in caught.value.reason
    assert name in caught.value.reason


def test_a_repeated_uid_key_is_a_list_of_uids() -> None:
    """PS3.18 §8.3.4.1: UID matching keys may repeat; the values form one UID list."""
    query = parse_qido(
        [("SeriesInstanceUID", "1.2.3"), ("SeriesInstanceUID", "1.2.4,1.2.5")], Level.SERIES
    )
    assert query.keys == (MatchKey(("0020000E",), "UI", "1.2.3\\1.2.4,1.2.5"),)


@pytest.mark.parametrize("name", ["PatientID", "StudyDate", "00100010"])
def test_a_repeated_non_uid_key_is_a_bad_request(name: str) -> None:
    with pytest.raises(BadRequest, match="more than once"):
        parse_qido([(name, ""), (name, "")], Level.STUDY)
