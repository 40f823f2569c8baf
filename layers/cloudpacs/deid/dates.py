"""Date shifting for Retain Longitudinal Temporal Information with Modified Dates (E.3.6).

All dates of one patient move by the same whole number of days, so the "gross longitudinal
temporal relationships" and, since times of day are unchanged, the "fine temporal
relationships" (E.3.6; PET injection to acquisition, dynamic contrast) are preserved. A DT
keeps its time part and UTC offset; a partial DA/DT (year, year+month) keeps its precision.
A value that is not a valid date is removed rather than passed through.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_DA = re.compile(r"(\d{4})(\d{2})?(\d{2})?")
_DT = re.compile(r"(\d{4})(\d{2})?(\d{2})?(.*)")


def _shift(year: str, month: str | None, day: str | None, days: int) -> str | None:
    try:
        moved = date(int(year), int(month or 1), int(day or 1)) + timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    text = f"{moved.year:04d}"
    if month:
        text += f"{moved.month:02d}"
    if day:
        text += f"{moved.day:02d}"
    return text


def shift_da(value: str, days: int) -> str:
    """Shift one DA value (``YYYYMMDD``; legacy ``YYYY.MM.DD`` accepted); "" if invalid."""
    m = _DA.fullmatch(value.strip().replace(".", ""))
    if not m:
        return ""
    return _shift(m[1], m[2], m[3], days) or ""


def shift_dt(value: str, days: int) -> str:
    """Shift the date part of one DT value, keeping time and UTC offset; "" if invalid."""
    m = _DT.fullmatch(value.strip())
    if not m:
        return ""
    rest = m[4]
    if rest and not m[3]:  # a time part needs a full date in front of it
        return ""
    moved = _shift(m[1], m[2], m[3], days)
    return "" if moved is None else moved + rest
