"""PS3.4 §C.2.2.2 attribute matching, one table per clause (``services.matching``).

A row is (attribute, stored value, key value, matches?, id). The stored value is that of
the attribute's top-level element in the entity: ``ABSENT`` leaves it out, ``[]`` is a
zero-length element, a list holds several values (a list of dicts: sequence items).
Entities are DICOM JSON datasets, as the index holds them.
"""

from __future__ import annotations

from typing import Any

import pytest

from cloudpacs.services.matching import matches, matches_all

from .dicom_json import dataset, key

ABSENT = object()
Row = tuple[str, Any, str, bool, str]
COLUMNS = ("attribute", "stored", "value", "expected")


def rows(*table: Row) -> list[Any]:
    return [pytest.param(a, s, v, e, id=i) for a, s, v, e, i in table]


def check(attribute: str, stored: Any, value: str, expected: bool, fuzzy: bool = False) -> None:
    top = attribute.split(".")[0]
    entity = dataset() if stored is ABSENT else dataset(**{top: stored})
    assert matches(entity, key(attribute, value), fuzzy=fuzzy) is expected
    assert matches_all(entity, (key(attribute, value),), fuzzy=fuzzy) is expected


CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"

SINGLE_VALUE = rows(
    ("Modality", "CT", "CT", True, "CS-equal"),
    ("Modality", "CT", "ct", False, "CS-case-sensitive"),
    ("Modality", "CT", "C", False, "CS-no-prefix-match"),
    ("Modality", "CT ", "CT", True, "CS-trailing-space-padding"),
    ("PatientID", "Abc-123", "Abc-123", True, "LO-equal"),
    ("PatientID", "Abc-123", "ABC-123", False, "LO-case"),
    ("AccessionNumber", "acc1", "ACC1", False, "SH-case"),
    ("AccessionNumber", "acc1", "acc1", True, "SH-equal"),
    ("PatientName", "Doe^John", "DOE^JOHN", True, "PN-case"),
    ("PatientName", "Doe^John^^^", "Doe^John", True, "PN-pad"),
    ("PatientName", "Doe^John", "Doe^Jo", False, "PN-prefix"),
    ("PatientName", "Doe^John", " Doe^John ", True, "PN-spaces"),
    ("PatientName", "Müller^Hans", "MÜLLER^HANS", True, "PN-ü"),
    ("PatientName", "Müller^Hans", "Muller^Hans", False, "PN-accent-sensitive-without-fuzzy"),
    ("StudyDate", "20200101", "20200101", True, "DA-equal"),
    ("StudyDate", "20200101", "20200102", False, "DA-other"),
    ("SOPClassUID", CT_CLASS, CT_CLASS, True, "UI-equal"),
    ("SOPClassUID", CT_CLASS, "1.2.840.10008.5.1.4.1.1", False, "UI-no-prefix"),
)


@pytest.mark.parametrize(COLUMNS, SINGLE_VALUE)
def test_single_value_matching(attribute: str, stored: Any, value: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.1: "Except for Attributes with a PN Value Representation, only entities
    with values that match exactly the value specified in the request shall match. This
    matching is case-sensitive [...] For Attributes with a PN Value Representation, an
    application may perform literal matching that is either case-sensitive, or that is
    insensitive to some or all aspects of case, position, accent, or other character encoding
    variants." cloudpacs matches PN case-insensitively and accent-sensitively (without fuzzy).
    """
    check(attribute, stored, value, expected)


UNIVERSAL = rows(
    ("PatientID", "X", "", True, "present"),
    ("PatientID", ABSENT, "", True, "absent"),
    ("PatientID", [], "", True, "empty"),
    ("StudyDate", ABSENT, "", True, "DA-absent"),
    ("RequestAttributesSequence.RequestedProcedureID", ABSENT, "", True, "in-absent-sequence"),
)


@pytest.mark.parametrize(COLUMNS, UNIVERSAL)
def test_universal_matching(attribute: str, stored: Any, value: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.3: "If the value specified for a Key Attribute in a request is zero
    length, then all entities shall match this Attribute.\""""
    check(attribute, stored, value, expected)


WILDCARD = rows(
    ("Modality", "CT", "C*", True, "star-suffix"),
    ("Modality", "CT", "*T", True, "star-prefix"),
    ("Modality", "CT", "CT*", True, "star-matches-empty-run"),
    ("Modality", "CT", "?T", True, "question-one-char"),
    ("Modality", "CT", "??T", False, "question-exactly-one"),
    ("Modality", "CT", "c*", False, "case-sensitive"),
    ("StudyDescription", "CT CHEST W/O", "*CHEST*", True, "LO-infix"),
    ("PatientID", "A.B", "A.*", True, "dot-is-literal"),
    ("PatientID", "AxB", "A.*", False, "dot-not-regex"),
    ("PatientID", "A+(B", "A+(*", True, "regex-metachars"),
    ("PatientName", "Doe^John", "doe*", True, "PN-ignore-case"),
    ("PatientName", "Doe^John^^^", "*john", True, "PN-trailing-separators"),
    ("PatientName", "Doe^John", "D?e^*", True, "PN-question"),
    ("PatientName", "Doe^John", "Smith*", False, "PN-no"),
    ("PatientID", ABSENT, "*", True, "lone-star-is-universal"),
    ("SOPClassUID", CT_CLASS, "1.2.840.*", False, "not-for-UI"),
    ("StudyDate", "20200101", "2020*", False, "not-for-DA"),
    ("StudyTime", "101500", "10*", False, "not-for-TM"),
    ("AcquisitionDateTime", "20200101101500", "2020*", False, "not-for-DT"),
)


@pytest.mark.parametrize(COLUMNS, WILDCARD)
def test_wild_card_matching(attribute: str, stored: Any, value: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.4: "If the Attribute is of VR of AE, CS, LO, LT, PN, SH, ST, UC, UR, UT
    and the value specified in the request contains any occurrence of an "*" or a "?", then
    "*" shall match any sequence of characters (including a zero length value) and "?" shall
    match any single character. This matching is case sensitive, except for Attributes with a
    PN VR." DA, TM, DT and UI values are never wild card patterns.
    """
    check(attribute, stored, value, expected)


UID_LIST = rows(
    ("SeriesInstanceUID", "1.2.4", "1.2.3\\1.2.4", True, "backslash"),
    ("SeriesInstanceUID", "1.2.4", "1.2.3,1.2.4", True, "comma-qido"),
    ("SeriesInstanceUID", "1.2.4", "1.2.5\\1.2.6", False, "not-listed"),
    ("SeriesInstanceUID", "1.2.45", "1.2.4\\1.2.5", False, "whole-uids-only"),
    ("SeriesInstanceUID", ABSENT, "1.2.3\\1.2.4", False, "absent"),
)


@pytest.mark.parametrize(COLUMNS, UID_LIST)
def test_list_of_uid_matching(attribute: str, stored: Any, value: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.2: "A List of UIDs is encoded by using the value multiplicity operator,
    backslash ("\\"), as a delimiter between UIDs. Each item in the list shall contain a single
    UID value. Each UID in the list contained in the Identifier of the request may generate a
    match." PS3.18 §8.3.4.1 also lets QIDO-RS separate them with commas.
    """
    check(attribute, stored, value, expected)


DT = "AcquisitionDateTime"
OFFSET_RANGE = "20200101000000-0500-20200101235959-0500"

RANGE = rows(
    ("StudyDate", "20200615", "20200101-20201231", True, "DA-in"),
    ("StudyDate", "20200101", "20200101-20201231", True, "DA-lower-inclusive"),
    ("StudyDate", "20201231", "20200101-20201231", True, "DA-upper-inclusive"),
    ("StudyDate", "20210101", "20200101-20201231", False, "DA-after"),
    ("StudyDate", "20191231", "-20200101", True, "DA-prior"),
    ("StudyDate", "20200102", "-20200101", False, "DA-not-prior"),
    ("StudyDate", "20200101", "20200101-", True, "DA-subsequent"),
    ("StudyDate", "20191231", "20200101-", False, "DA-before"),
    ("StudyDate", ABSENT, "20200101-", False, "DA-absent"),
    ("StudyTime", "103000", "1000-1100", True, "TM-in"),
    ("StudyTime", "110059", "1000-1100", True, "TM-upper-covers-its-minute"),
    ("StudyTime", "110100", "1000-1100", False, "TM-after"),
    ("StudyTime", "095959", "1000-1100", False, "TM-before"),
    ("StudyTime", "093000", "-1000", True, "TM-prior"),
    ("StudyTime", "235959", "2300-", True, "TM-subsequent"),
    ("StudyTime", "101500", "10", True, "TM-hour-precision"),
    ("StudyTime", "105959.999", "10", True, "TM-hour-end"),
    ("StudyTime", "095900", "10", False, "TM-other-hour"),
    ("StudyTime", "101559.9", "1015", True, "TM-minute"),
    ("StudyTime", "101600", "1015", False, "TM-next-minute"),
    ("StudyTime", "10:15:00", "1015", True, "TM-colons-stored"),
    (DT, "20200615120000", "2020", True, "DT-year-precision"),
    (DT, "20210101000000", "2020", False, "DT-next-year"),
    (DT, "20200102235959", "20200101-20200102", True, "DT-range-day-precision"),
    (DT, "20200103000000", "20200101-20200102", False, "DT-range-after"),
    (DT, "20210615", "2020-2021", True, "DT-year-range-not-an-offset"),
    (DT, "20200101090000+0000", "20200101100000+0100", True, "DT-same-instant"),
    (DT, "20200101100000+0000", "20200101100000+0100", False, "DT-same-clock-other-instant"),
    (DT, "20200102030000+0000", "20200101-0500", True, "DT-day-in-offset-zone"),
    (DT, "20200101040000+0000", "20200101-0500", False, "DT-before-day-in-zone"),
    (DT, "20200102040000+0000", OFFSET_RANGE, True, "DT-range-both-bounds-with-offset"),
    (DT, "20200102060000+0000", OFFSET_RANGE, False, "DT-range-offset-after"),
    (DT, "20200101100000", "20200101100000+0100", True, "DT-no-stored-offset-clock-time"),
)


@pytest.mark.parametrize(COLUMNS, RANGE)
def test_range_matching(attribute: str, stored: Any, value: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.5: "A string of the form "<date1> - <date2>", where <date1> is less or
    equal to <date2>, shall match all occurrences of dates that fall between <date1> and
    <date2> inclusive; "- <date1>" [...] prior to and including <date1>; "<date1> -" [...]
    <date1> and subsequent dates", likewise for times and date-times. "The offset from
    Universal Coordinated Time, if present in the Value of the Attribute, shall be taken into
    account for the purposes of the match." A single TM or DT value covers its precision.
    A DT without an offset is compared by its clock time.
    """
    check(attribute, stored, value, expected)


MULTI_VALUED = rows(
    ("ModalitiesInStudy", ["CT", "MR"], "MR", True, "second-value"),
    ("ModalitiesInStudy", ["CT", "MR"], "PT", False, "none"),
    ("ModalitiesInStudy", ["CT", "MR"], "M?", True, "wildcard-any-value"),
    ("ImageType", ["ORIGINAL", "PRIMARY", "AXIAL"], "AXIAL", True, "ImageType"),
    ("SOPClassesInStudy", ["1.2.3", "1.2.4"], "1.2.4", True, "UI-values"),
    ("ImageType", ["ORIGINAL", None, "AXIAL"], "N*", False, "json-null-is-an-empty-value"),
)


@pytest.mark.parametrize(COLUMNS, MULTI_VALUED)
def test_multi_valued_attributes(attribute: str, stored: Any, value: str, expected: bool) -> None:
    """PS3.4 C.2.2.3 (returned values) and C.2.2.2.1: an entity Attribute with several values
    matches a single-valued key when any one of its values matches. (C.2.2.2.8 Note 4: without
    Extended Negotiation the semantics of several values in the key itself are undefined.)
    PS3.18 F.2.5: an empty value of a multi-valued element is JSON null.
    """
    check(attribute, stored, value, expected)


REQUESTS = [
    {"RequestedProcedureID": "RP1", "ScheduledProcedureStepID": "SPS1"},
    {"RequestedProcedureID": "RP2", "ScheduledProcedureStepID": "SPS2"},
]
RP = "RequestAttributesSequence.RequestedProcedureID"

SEQUENCE = rows(
    (RP, REQUESTS, "RP2", True, "second-item"),
    (RP, REQUESTS, "RP3", False, "no-item"),
    (RP, REQUESTS, "RP*", True, "wildcard-in-item"),
    (RP, ABSENT, "RP1", False, "absent-sequence"),
    (RP, ABSENT, "*", True, "absent-sequence-star"),
    (RP, [], "*", True, "empty-sequence-star"),
    (RP, [{"ScheduledProcedureStepID": "S"}], "*", True, "absent-in-item-star"),
)


@pytest.mark.parametrize(COLUMNS, SEQUENCE)
def test_sequence_matching(attribute: str, stored: Any, value: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.6: "If all the Item Key Attributes match, for at least one of the Items
    of the Attribute in the entity, then this is a match.\""""
    check(attribute, stored, value, expected)


@pytest.mark.parametrize(
    ("rp", "sps", "expected"),
    [("RP1", "SPS1", True), ("RP2", "SPS2", True), ("RP1", "SPS2", False), ("RP*", "SPS2", True)],
)
def test_sequence_keys_must_match_in_the_same_item(rp: str, sps: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.6: "Each Item Key Attribute matching shall be performed on an Item by
    Item basis [...] If all the Item Key Attributes match, for at least one of the Items [...]
    then this is a match": two keys in one sequence match only together, in one item.
    """
    keys = (key(RP, rp), key("RequestAttributesSequence.ScheduledProcedureStepID", sps))
    entity = dataset(RequestAttributesSequence=REQUESTS)
    assert matches_all(entity, keys, fuzzy=False) is expected


NUMERIC = rows(
    ("InstanceNumber", 5, "5", True, "IS"),
    ("InstanceNumber", 5, "05", True, "IS-leading-zero"),
    ("InstanceNumber", 5, "6", False, "IS-other"),
    ("InstanceNumber", "12", "12", True, "IS-as-text"),
    ("NumberOfStudyRelatedInstances", 3, "3", True, "computed-count"),
    ("SliceThickness", 1.5, "1.50", True, "DS"),
    ("Rows", 512, "512", True, "US"),
)


@pytest.mark.parametrize(COLUMNS, NUMERIC)
def test_numeric_values(attribute: str, stored: Any, value: str, expected: bool) -> None:
    """PS3.4 C.2.2.2.1 single value matching on numbers (IS, DS, US): PS3.18 Annex F keeps
    them as JSON numbers, so equal numbers match whatever their text form.
    """
    check(attribute, stored, value, expected)


ABSENT_OR_EMPTY = rows(
    ("PatientID", ABSENT, "X", False, "absent-single"),
    ("PatientID", ABSENT, "*", True, "absent-star"),
    ("PatientID", ABSENT, "?", False, "absent-question"),
    ("PatientID", ABSENT, "X*", False, "absent-wildcard"),
    ("PatientID", [], "X", False, "empty-single"),
    ("PatientID", [], "*", True, "empty-star"),
    ("PatientName", [], "Doe", False, "empty-PN"),
    ("StudyDate", ABSENT, "20200101", False, "absent-DA"),
    ("SeriesInstanceUID", ABSENT, "1.2.3", False, "absent-UI"),
    ("InstanceNumber", ABSENT, "1", False, "absent-IS"),
)


@pytest.mark.parametrize(COLUMNS, ABSENT_OR_EMPTY)
def test_absent_or_empty_attributes(
    attribute: str, stored: Any, value: str, expected: bool
) -> None:
    """PS3.4 C.2.2.2.4 Note: "Wild Card Matching on a value of "*" is equivalent to Universal
    Matching"; every other non-empty key needs a value to compare with, so an entity whose
    Attribute is absent or zero length matches only universal and "*" keys.
    """
    check(attribute, stored, value, expected)


FUZZY = rows(
    ("PatientName", "Doe^John", "doe", True, "case"),
    ("PatientName", "Doe^John", "jo", True, "word-prefix"),
    ("PatientName", "Doe^John", "john doe", True, "order"),
    ("PatientName", "Doe^John", "ohn", False, "not-infix"),
    ("PatientName", "Doe^John", "doe jane", False, "every-word"),
    ("PatientName", "Müller^Hans", "muller", True, "accent"),
    ("PatientName", "Muller^Hans", "MÜLL", True, "accent-in-key"),
    ("PatientName", "Doe^John", "do*", True, "star-ignored"),
    ("PatientName", "O'Brien^Pat", "obrien", False, "apostrophe-splits-words"),
    ("PatientName", "O'Brien^Pat", "o bri", True, "apostrophe-word-prefixes"),
    ("PatientName", ABSENT, "doe", False, "absent"),
    ("ReferringPhysicianName", "House^Gregory", "greg", True, "any-PN-attribute"),
    ("PatientID", "Doe", "doe", False, "not-for-LO"),
)


@pytest.mark.parametrize(COLUMNS, FUZZY)
def test_fuzzy_person_name_matching(
    attribute: str, stored: Any, value: str, expected: bool
) -> None:
    """PS3.4 C.2.2.2.1 / PS3.18 §8.3.4.1 fuzzymatching=true: "Fuzzy semantic matching of
    person names" is implementation defined; cloudpacs ignores case and accents and matches
    when every word of the key is the prefix of some word of the name.
    """
    check(attribute, stored, value, expected, fuzzy=True)
