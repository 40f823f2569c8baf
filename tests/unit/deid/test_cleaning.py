"""Date shifting and text cleaning, the two "C" operations (PS3.15 E.3.5 and E.3.6)."""

from __future__ import annotations

import pytest

from cloudpacs.deid.dates import shift_da, shift_dt
from cloudpacs.deid.scrub import Scrubber


@pytest.mark.parametrize(
    ("value", "days", "expected"),
    [
        ("20040119", -366, "20030118"),
        ("20000301", -1, "20000229"),  # leap day
        ("2004.01.19", -1, "20040118"),  # legacy ACR-NEMA spelling
        ("200401", -40, "200311"),  # partial date keeps its precision
        ("19691301", -1, ""),  # not a date: removed, never passed through
        ("", -1, ""),
    ],
)
def test_shift_da(value: str, days: int, expected: str) -> None:
    assert shift_da(value, days) == expected


def test_shift_dt_keeps_time_and_offset() -> None:
    """E.3.6 note 3: "Transformation of dates and times should be considered together, in
    order to address studies that span midnight": only whole days move."""
    assert shift_dt("20040119235959.123456+0100", -2) == "20040117235959.123456+0100"
    assert shift_dt("2004", -400) == "2002"
    assert shift_dt("2004xx", -1) == ""


def test_scrubber_removes_names_ids_and_dates_in_any_case() -> None:
    scrub = Scrubber(["Doe^Jane^Q", "MRN12345", "20040119", "ab"])
    assert scrub("CT for jane DOE (mrn12345) on 2004-01-19") == "CT for () on"
    assert scrub("19/01/2004 follow-up") == "follow-up"
    assert scrub("ab stays: too short to be an identifier") == (
        "ab stays: too short to be an identifier"
    )
    assert Scrubber([])("unchanged") == "unchanged"
