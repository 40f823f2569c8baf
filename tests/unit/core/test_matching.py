"""PS3.4 §C.2.2.2 attribute matching, one table per clause (``services.matching``).

Each row is (entity attributes by keyword, (attribute, key value), expected). Entities are
DICOM JSON datasets, as the index holds them.
"""

from __future__ import annotations

from typing import Any

import pytest
from cloudpacs.services.matching import matches, matches_all

from .dicom_json import dataset, key

Row = tuple[dict[str, Any], tuple[str, str], bool]


def check(
    attrs: dict[str, Any], query: tuple[str, str], expected: bool, fuzzy: bool = False
) -> None:
    ds = dataset(**attrs)
    assert matches(ds, key(*query), fuzzy=fuzzy) is expected
    assert matches_all(ds, (key(*query),), fuzzy=fuzzy) is expected


SINGLE_VALUE = [
    pytest.param({"Modality": "CT"}, ("Modality", "CT"), True, id="CS-equal"),
    pytest.param({"Modality": "CT"}, ("Modality", "ct"), False, id="CS-case-sensitive"),
    pytest.param({"Modality": "CT"}, ("Modality", "C"), False, id="CS-no-prefix-match"),
    pytest.param({"Modality": "CT "}, ("Modality", "CT"), True, id="CS-trailing-space-padding"),
    pytest.param({"PatientID": "Abc-123"}, ("PatientID", "Abc-123"), True, id="LO-equal"),
    pytest.param({"PatientID": "Abc-123"}, ("PatientID", "ABC-123"), False, id="LO-case"),
    pytest.param({"AccessionNumber": "acc1"}, ("AccessionNumber", "ACC1"), False, id="SH-case"),
    pytest.param({"AccessionNumber": "acc1"}, ("AccessionNumber", "acc1"), True, id="SH-equal"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "DOE^JOHN"), True, id="PN-case"),
    pytest.param({"PatientName": "Doe^John^^^"}, ("PatientName", "Doe^John"), True, id="PN-pad"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "Doe^Jo"), False, id="PN-prefix"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", " Doe^John "), True, id="PN-spaces"),
    pytest.param({"PatientName": "Müller^Hans"}, ("PatientName", "MÜLLER^HANS"), True, id="PN-ü"),
    pytest.param(
        {"PatientName": "Müller^Hans"},
        ("PatientName", "Muller^Hans"),
        False,
        id="PN-accent-sensitive-without-fuzzy",
    ),
    pytest.param({"StudyDate": "20200101"}, ("StudyDate", "20200101"), True, id="DA-equal"),
    pytest.param({"StudyDate": "20200101"}, ("StudyDate", "20200102"), False, id="DA-other"),
    pytest.param(
        {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2"},
        ("SOPClassUID", "1.2.840.10008.5.1.4.1.1.2"),
        True,
        id="UI-equal",
    ),
    pytest.param(
        {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2"},
        ("SOPClassUID", "1.2.840.10008.5.1.4.1.1"),
        False,
        id="UI-no-prefix",
    ),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), SINGLE_VALUE)
def test_single_value_matching(
    attrs: dict[str, Any], query: tuple[str, str], expected: bool
) -> None:
    """PS3.4 C.2.2.2.1: "Except for Attributes with a PN Value Representation, only entities
    with values that match exactly the value specified in the request shall match. This
    matching is case-sensitive [...] For Attributes with a PN Value Representation, an
    application may perform literal matching that is either case-sensitive, or that is
    insensitive to some or all aspects of case, position, accent, or other character encoding
    variants." cloudpacs matches PN case-insensitively and accent-sensitively (without fuzzy).
    """
    check(attrs, query, expected)


UNIVERSAL = [
    pytest.param({"PatientID": "X"}, ("PatientID", ""), True, id="present"),
    pytest.param({}, ("PatientID", ""), True, id="absent"),
    pytest.param({"PatientID": []}, ("PatientID", ""), True, id="empty"),
    pytest.param({}, ("StudyDate", ""), True, id="DA-absent"),
    pytest.param(
        {}, ("RequestAttributesSequence.RequestedProcedureID", ""), True, id="in-absent-sequence"
    ),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), UNIVERSAL)
def test_universal_matching(attrs: dict[str, Any], query: tuple[str, str], expected: bool) -> None:
    """PS3.4 C.2.2.2.3: "If the value specified for a Key Attribute in a request is zero
    length, then all entities shall match this Attribute.\""""
    check(attrs, query, expected)


WILDCARD = [
    pytest.param({"Modality": "CT"}, ("Modality", "C*"), True, id="star-suffix"),
    pytest.param({"Modality": "CT"}, ("Modality", "*T"), True, id="star-prefix"),
    pytest.param({"Modality": "CT"}, ("Modality", "CT*"), True, id="star-matches-empty-run"),
    pytest.param({"Modality": "CT"}, ("Modality", "?T"), True, id="question-one-char"),
    pytest.param({"Modality": "CT"}, ("Modality", "??T"), False, id="question-exactly-one"),
    pytest.param({"Modality": "CT"}, ("Modality", "c*"), False, id="case-sensitive"),
    pytest.param(
        {"StudyDescription": "CT CHEST W/O"}, ("StudyDescription", "*CHEST*"), True, id="LO-infix"
    ),
    pytest.param({"PatientID": "A.B"}, ("PatientID", "A.*"), True, id="dot-is-literal"),
    pytest.param({"PatientID": "AxB"}, ("PatientID", "A.*"), False, id="dot-not-regex"),
    pytest.param({"PatientID": "A+(B"}, ("PatientID", "A+(*"), True, id="regex-metachars"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "doe*"), True, id="PN-ignore-case"),
    pytest.param(
        {"PatientName": "Doe^John^^^"}, ("PatientName", "*john"), True, id="PN-trailing-separators"
    ),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "D?e^*"), True, id="PN-question"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "Smith*"), False, id="PN-no"),
    pytest.param({}, ("PatientID", "*"), True, id="lone-star-is-universal"),
    pytest.param(
        {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2"},
        ("SOPClassUID", "1.2.840.*"),
        False,
        id="not-for-UI",
    ),
    pytest.param({"StudyDate": "20200101"}, ("StudyDate", "2020*"), False, id="not-for-DA"),
    pytest.param({"StudyTime": "101500"}, ("StudyTime", "10*"), False, id="not-for-TM"),
    pytest.param(
        {"AcquisitionDateTime": "20200101101500"},
        ("AcquisitionDateTime", "2020*"),
        False,
        id="not-for-DT",
    ),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), WILDCARD)
def test_wild_card_matching(attrs: dict[str, Any], query: tuple[str, str], expected: bool) -> None:
    """PS3.4 C.2.2.2.4: "If the Attribute is of VR of AE, CS, LO, LT, PN, SH, ST, UC, UR, UT
    and the value specified in the request contains any occurrence of an "*" or a "?", then
    "*" shall match any sequence of characters (including a zero length value) and "?" shall
    match any single character. This matching is case sensitive, except for Attributes with a
    PN VR." DA, TM, DT and UI values are never wild card patterns.
    """
    check(attrs, query, expected)


UID_LIST = [
    pytest.param(
        {"SeriesInstanceUID": "1.2.4"}, ("SeriesInstanceUID", "1.2.3\\1.2.4"), True, id="backslash"
    ),
    pytest.param(
        {"SeriesInstanceUID": "1.2.4"}, ("SeriesInstanceUID", "1.2.3,1.2.4"), True, id="comma-qido"
    ),
    pytest.param(
        {"SeriesInstanceUID": "1.2.4"},
        ("SeriesInstanceUID", "1.2.5\\1.2.6"),
        False,
        id="not-listed",
    ),
    pytest.param(
        {"SeriesInstanceUID": "1.2.45"},
        ("SeriesInstanceUID", "1.2.4\\1.2.5"),
        False,
        id="whole-uids-only",
    ),
    pytest.param({}, ("SeriesInstanceUID", "1.2.3\\1.2.4"), False, id="absent"),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), UID_LIST)
def test_list_of_uid_matching(
    attrs: dict[str, Any], query: tuple[str, str], expected: bool
) -> None:
    """PS3.4 C.2.2.2.2: "A List of UIDs is encoded by using the value multiplicity operator,
    backslash ("\\"), as a delimiter between UIDs. Each item in the list shall contain a single
    UID value. Each UID in the list contained in the Identifier of the request may generate a
    match." PS3.18 §8.3.4.1 also lets QIDO-RS separate them with commas.
    """
    check(attrs, query, expected)


RANGE = [
    # DA
    pytest.param({"StudyDate": "20200615"}, ("StudyDate", "20200101-20201231"), True, id="DA-in"),
    pytest.param(
        {"StudyDate": "20200101"}, ("StudyDate", "20200101-20201231"), True, id="DA-lower-inclusive"
    ),
    pytest.param(
        {"StudyDate": "20201231"}, ("StudyDate", "20200101-20201231"), True, id="DA-upper-inclusive"
    ),
    pytest.param(
        {"StudyDate": "20210101"}, ("StudyDate", "20200101-20201231"), False, id="DA-after"
    ),
    pytest.param({"StudyDate": "20191231"}, ("StudyDate", "-20200101"), True, id="DA-prior"),
    pytest.param({"StudyDate": "20200102"}, ("StudyDate", "-20200101"), False, id="DA-not-prior"),
    pytest.param({"StudyDate": "20200101"}, ("StudyDate", "20200101-"), True, id="DA-subsequent"),
    pytest.param({"StudyDate": "20191231"}, ("StudyDate", "20200101-"), False, id="DA-before"),
    pytest.param({}, ("StudyDate", "20200101-"), False, id="DA-absent"),
    # TM, with the precision of the key
    pytest.param({"StudyTime": "103000"}, ("StudyTime", "1000-1100"), True, id="TM-in"),
    pytest.param(
        {"StudyTime": "110059"}, ("StudyTime", "1000-1100"), True, id="TM-upper-covers-its-minute"
    ),
    pytest.param({"StudyTime": "110100"}, ("StudyTime", "1000-1100"), False, id="TM-after"),
    pytest.param({"StudyTime": "095959"}, ("StudyTime", "1000-1100"), False, id="TM-before"),
    pytest.param({"StudyTime": "093000"}, ("StudyTime", "-1000"), True, id="TM-prior"),
    pytest.param({"StudyTime": "235959"}, ("StudyTime", "2300-"), True, id="TM-subsequent"),
    pytest.param({"StudyTime": "101500"}, ("StudyTime", "10"), True, id="TM-hour-precision"),
    pytest.param({"StudyTime": "105959.999"}, ("StudyTime", "10"), True, id="TM-hour-end"),
    pytest.param({"StudyTime": "095900"}, ("StudyTime", "10"), False, id="TM-other-hour"),
    pytest.param({"StudyTime": "101559.9"}, ("StudyTime", "1015"), True, id="TM-minute"),
    pytest.param({"StudyTime": "101600"}, ("StudyTime", "1015"), False, id="TM-next-minute"),
    pytest.param({"StudyTime": "10:15:00"}, ("StudyTime", "1015"), True, id="TM-colons-stored"),
    # DT: precision, ranges and UTC offsets
    pytest.param(
        {"AcquisitionDateTime": "20200615120000"},
        ("AcquisitionDateTime", "2020"),
        True,
        id="DT-year-precision",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20210101000000"},
        ("AcquisitionDateTime", "2020"),
        False,
        id="DT-next-year",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200102235959"},
        ("AcquisitionDateTime", "20200101-20200102"),
        True,
        id="DT-range-day-precision",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200103000000"},
        ("AcquisitionDateTime", "20200101-20200102"),
        False,
        id="DT-range-after",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20210615"},
        ("AcquisitionDateTime", "2020-2021"),
        True,
        id="DT-year-range-not-an-offset",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200101090000+0000"},
        ("AcquisitionDateTime", "20200101100000+0100"),
        True,
        id="DT-same-instant",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200101100000+0000"},
        ("AcquisitionDateTime", "20200101100000+0100"),
        False,
        id="DT-same-clock-other-instant",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200102030000+0000"},
        ("AcquisitionDateTime", "20200101-0500"),
        True,
        id="DT-day-in-offset-zone",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200101040000+0000"},
        ("AcquisitionDateTime", "20200101-0500"),
        False,
        id="DT-before-day-in-zone",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200102040000+0000"},
        ("AcquisitionDateTime", "20200101000000-0500-20200101235959-0500"),
        True,
        id="DT-range-both-bounds-with-offset",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200102060000+0000"},
        ("AcquisitionDateTime", "20200101000000-0500-20200101235959-0500"),
        False,
        id="DT-range-offset-after",
    ),
    pytest.param(
        {"AcquisitionDateTime": "20200101100000"},
        ("AcquisitionDateTime", "20200101100000+0100"),
        True,
        id="DT-no-stored-offset-compares-clock-time",
    ),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), RANGE)
def test_range_matching(attrs: dict[str, Any], query: tuple[str, str], expected: bool) -> None:
    """PS3.4 C.2.2.2.5: "A string of the form "<date1> - <date2>", where <date1> is less or
    equal to <date2>, shall match all occurrences of dates that fall between <date1> and
    <date2> inclusive; "- <date1>" [...] prior to and including <date1>; "<date1> -" [...]
    <date1> and subsequent dates", likewise for times and date-times. "The offset from
    Universal Coordinated Time, if present in the Value of the Attribute, shall be taken into
    account for the purposes of the match." A single TM or DT value covers its precision.
    A DT without an offset is compared by its clock time.
    """
    check(attrs, query, expected)


MULTI_VALUED = [
    pytest.param(
        {"ModalitiesInStudy": ["CT", "MR"]}, ("ModalitiesInStudy", "MR"), True, id="second-value"
    ),
    pytest.param(
        {"ModalitiesInStudy": ["CT", "MR"]}, ("ModalitiesInStudy", "PT"), False, id="none"
    ),
    pytest.param(
        {"ModalitiesInStudy": ["CT", "MR"]},
        ("ModalitiesInStudy", "M?"),
        True,
        id="wildcard-any-value",
    ),
    pytest.param(
        {"ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"]},
        ("ImageType", "AXIAL"),
        True,
        id="ImageType",
    ),
    pytest.param(
        {"SOPClassesInStudy": ["1.2.3", "1.2.4"]},
        ("SOPClassesInStudy", "1.2.4"),
        True,
        id="UI-values",
    ),
    pytest.param(
        {"ImageType": ["ORIGINAL", None, "AXIAL"]},
        ("ImageType", "N*"),
        False,
        id="json-null-is-an-empty-value",
    ),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), MULTI_VALUED)
def test_multi_valued_attributes(
    attrs: dict[str, Any], query: tuple[str, str], expected: bool
) -> None:
    """PS3.4 C.2.2.3 (returned values) and C.2.2.2.1: an entity Attribute with several values
    matches a single-valued key when any one of its values matches. (C.2.2.2.8 Note 4: without
    Extended Negotiation the semantics of several values in the key itself are undefined.)
    PS3.18 F.2.5: an empty value of a multi-valued element is JSON null.
    """
    check(attrs, query, expected)


REQUEST_ATTRIBUTES = {
    "RequestAttributesSequence": [
        {"RequestedProcedureID": "RP1", "ScheduledProcedureStepID": "SPS1"},
        {"RequestedProcedureID": "RP2", "ScheduledProcedureStepID": "SPS2"},
    ]
}

SEQUENCE = [
    pytest.param(
        REQUEST_ATTRIBUTES,
        ("RequestAttributesSequence.RequestedProcedureID", "RP2"),
        True,
        id="second-item",
    ),
    pytest.param(
        REQUEST_ATTRIBUTES,
        ("RequestAttributesSequence.RequestedProcedureID", "RP3"),
        False,
        id="no-item",
    ),
    pytest.param(
        REQUEST_ATTRIBUTES,
        ("RequestAttributesSequence.RequestedProcedureID", "RP*"),
        True,
        id="wildcard-in-item",
    ),
    pytest.param(
        {}, ("RequestAttributesSequence.RequestedProcedureID", "RP1"), False, id="absent-sequence"
    ),
    pytest.param(
        {}, ("RequestAttributesSequence.RequestedProcedureID", "*"), True, id="absent-sequence-star"
    ),
    pytest.param(
        {"RequestAttributesSequence": [{"ScheduledProcedureStepID": "S"}]},
        ("RequestAttributesSequence.RequestedProcedureID", "*"),
        True,
        id="absent-in-item-star",
    ),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), SEQUENCE)
def test_sequence_matching(attrs: dict[str, Any], query: tuple[str, str], expected: bool) -> None:
    """PS3.4 C.2.2.2.6: "If all the Item Key Attributes match, for at least one of the Items
    of the Attribute in the entity, then this is a match.\""""
    check(attrs, query, expected)


@pytest.mark.parametrize(
    ("rp", "sps", "expected"),
    [("RP1", "SPS1", True), ("RP2", "SPS2", True), ("RP1", "SPS2", False), ("RP*", "SPS2", True)],
)
def test_sequence_keys_must_match_in_the_same_item(rp: str, sps: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.6: "Each Item Key Attribute matching shall be performed on an Item by
    Item basis [...] If all the Item Key Attributes match, for at least one of the Items [...]
    then this is a match": two keys in one sequence match only together, in one item.
    """
    keys = (
        key("RequestAttributesSequence.RequestedProcedureID", rp),
        key("RequestAttributesSequence.ScheduledProcedureStepID", sps),
    )
    assert matches_all(dataset(**REQUEST_ATTRIBUTES), keys, fuzzy=False) is expected


NUMERIC = [
    pytest.param({"InstanceNumber": 5}, ("InstanceNumber", "5"), True, id="IS"),
    pytest.param({"InstanceNumber": 5}, ("InstanceNumber", "05"), True, id="IS-leading-zero"),
    pytest.param({"InstanceNumber": 5}, ("InstanceNumber", "6"), False, id="IS-other"),
    pytest.param({"InstanceNumber": "12"}, ("InstanceNumber", "12"), True, id="IS-as-text"),
    pytest.param(
        {"NumberOfStudyRelatedInstances": 3},
        ("NumberOfStudyRelatedInstances", "3"),
        True,
        id="computed-count",
    ),
    pytest.param({"SliceThickness": 1.5}, ("SliceThickness", "1.50"), True, id="DS"),
    pytest.param({"Rows": 512}, ("Rows", "512"), True, id="US"),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), NUMERIC)
def test_numeric_values(attrs: dict[str, Any], query: tuple[str, str], expected: bool) -> None:
    """PS3.4 C.2.2.2.1 single value matching on numbers (IS, DS, US): PS3.18 Annex F keeps
    them as JSON numbers, so equal numbers match whatever their text form.
    """
    check(attrs, query, expected)


ABSENT_OR_EMPTY = [
    pytest.param({}, ("PatientID", "X"), False, id="absent-single"),
    pytest.param({}, ("PatientID", "*"), True, id="absent-star"),
    pytest.param({}, ("PatientID", "?"), False, id="absent-question"),
    pytest.param({}, ("PatientID", "X*"), False, id="absent-wildcard"),
    pytest.param({"PatientID": []}, ("PatientID", "X"), False, id="empty-single"),
    pytest.param({"PatientID": []}, ("PatientID", "*"), True, id="empty-star"),
    pytest.param({"PatientName": []}, ("PatientName", "Doe"), False, id="empty-PN"),
    pytest.param({}, ("StudyDate", "20200101"), False, id="absent-DA"),
    pytest.param({}, ("SeriesInstanceUID", "1.2.3"), False, id="absent-UI"),
    pytest.param({}, ("InstanceNumber", "1"), False, id="absent-IS"),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), ABSENT_OR_EMPTY)
def test_absent_or_empty_attributes(
    attrs: dict[str, Any], query: tuple[str, str], expected: bool
) -> None:
    """PS3.4 C.2.2.2.4 Note: "Wild Card Matching on a value of "*" is equivalent to Universal
    Matching"; every other non-empty key needs a value to compare with, so an entity whose
    Attribute is absent or zero length matches only universal and "*" keys.
    """
    check(attrs, query, expected)


FUZZY = [
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "doe"), True, id="case"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "jo"), True, id="word-prefix"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "john doe"), True, id="order"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "ohn"), False, id="not-infix"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "doe jane"), False, id="every-word"),
    pytest.param({"PatientName": "Müller^Hans"}, ("PatientName", "muller"), True, id="accent"),
    pytest.param({"PatientName": "Muller^Hans"}, ("PatientName", "MÜLL"), True, id="accent-in-key"),
    pytest.param({"PatientName": "Doe^John"}, ("PatientName", "do*"), True, id="star-ignored"),
    pytest.param(
        {"PatientName": "O'Brien^Pat"},
        ("PatientName", "obrien"),
        False,
        id="apostrophe-splits-words",
    ),
    pytest.param(
        {"PatientName": "O'Brien^Pat"},
        ("PatientName", "o bri"),
        True,
        id="apostrophe-word-prefixes",
    ),
    pytest.param({}, ("PatientName", "doe"), False, id="absent"),
    pytest.param(
        {"ReferringPhysicianName": "House^Gregory"},
        ("ReferringPhysicianName", "greg"),
        True,
        id="any-PN-attribute",
    ),
    pytest.param({"PatientID": "Doe"}, ("PatientID", "doe"), False, id="not-for-LO"),
]


@pytest.mark.parametrize(("attrs", "query", "expected"), FUZZY)
def test_fuzzy_person_name_matching(
    attrs: dict[str, Any], query: tuple[str, str], expected: bool
) -> None:
    """PS3.4 C.2.2.2.1 / PS3.18 §8.3.4.1 fuzzymatching=true: "Fuzzy semantic matching of
    person names" is implementation defined; cloudpacs ignores case and accents and matches
    when every word of the key is the prefix of some word of the name.
    """
    check(attrs, query, expected, fuzzy=True)
