"""Attribute matching, PS3.4 §C.2.2.2, shared by QIDO-RS (PS3.18 §8.3.4) and C-FIND.

Implemented once, over DICOM JSON datasets:

- Universal matching (C.2.2.2.3): an empty key value matches every entity.
- Single value matching (C.2.2.2.1): exact and case-sensitive, except PN, which is matched
  case-insensitively here (the standard leaves PN case sensitivity to the implementation).
- Wild card matching (C.2.2.2.4): ``*`` any run of characters, ``?`` one character, for
  every string VR except DA, DT, TM and UI.
- List of UID matching (C.2.2.2.2): UIDs separated by ``\\`` (or ``,`` in QIDO-RS).
- Range matching (C.2.2.2.5): ``a-b``, ``-b``, ``a-`` for DA, TM and DT; a single TM or
  DT value matches everything within its precision. DT UTC offsets are taken into account
  when both values carry one; a DT without an offset is compared by its clock time. A DT key
  such as ``2020-2021`` is a range of years; ``20200101-0500`` is one day at UTC-5 (an
  offset is ``-1200`` to ``+1400``; a dash that makes an ordered range wins).
- Sequence matching (C.2.2.2.6): the keys inside one sequence match if they all match in
  one item.
- Multi-valued attributes match when any of their values matches; a JSON ``null`` value
  (PS3.18 F.2.5) is an empty value.
- Fuzzy semantic matching of PN (PS3.18 ``fuzzymatching=true``): case and accent
  insensitive; every word of the key must be the prefix of some word of the name.

An entity whose attribute is absent or empty matches only universal and ``*`` keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cloudpacs.dicom.names import normalize_name
from cloudpacs.model import JsonDataset

STRING_VRS = frozenset({"AE", "AS", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
NUMERIC_VRS = frozenset({"IS", "DS", "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"})
RANGE_VRS = frozenset({"DA", "TM", "DT"})


@dataclass(frozen=True)
class MatchKey:
    """One matching key: a tag path (sequence tags then the leaf), its VR and the value."""

    path: tuple[str, ...]
    vr: str
    value: str

    @property
    def universal(self) -> bool:
        return self.value == ""

    @property
    def tag(self) -> str:
        return self.path[-1]


def matches(dataset: JsonDataset, key: MatchKey, *, fuzzy: bool = False) -> bool:
    """Does ``dataset`` match ``key``?"""
    if key.universal:
        return True
    return _match_path(dataset, key, key.path, fuzzy)


def matches_all(dataset: JsonDataset, keys: tuple[MatchKey, ...], *, fuzzy: bool) -> bool:
    """Do all ``keys`` match? Keys inside one sequence must match in the same item."""
    nested: dict[str, list[MatchKey]] = {}
    for k in keys:
        if len(k.path) > 1 and not k.universal:
            nested.setdefault(k.path[0], []).append(k)
        elif not matches(dataset, k, fuzzy=fuzzy):
            return False
    for tag, group in nested.items():
        items = _items(dataset, tag)
        if not items:
            if all(k.value == "*" for k in group):
                continue
            return False
        inner = tuple(MatchKey(k.path[1:], k.vr, k.value) for k in group)
        if not any(matches_all(item, inner, fuzzy=fuzzy) for item in items):
            return False
    return True


def _items(dataset: JsonDataset, tag: str) -> list[JsonDataset]:
    element = dataset.get(tag)
    values = element.get("Value") if element else None
    return [item for item in values or () if isinstance(item, dict)]


def _match_path(dataset: JsonDataset, key: MatchKey, path: tuple[str, ...], fuzzy: bool) -> bool:
    if len(path) > 1:
        items = _items(dataset, path[0])
        if not items:
            return key.value == "*"
        return any(_match_path(item, key, path[1:], fuzzy) for item in items)
    element = dataset.get(path[0])
    values = element.get("Value") if element else None
    if not values:
        return key.value == "*"
    return any(_match_value(v, key, fuzzy) for v in values)


def _match_value(value: Any, key: MatchKey, fuzzy: bool) -> bool:
    vr = key.vr
    if value is None:
        value = ""
    if vr == "PN":
        text = value.get("Alphabetic", "") if isinstance(value, dict) else str(value)
        return _match_person_name(text, key.value, fuzzy)
    if vr == "UI":
        return str(value) in uid_list(key.value)
    if vr in RANGE_VRS:
        return _match_range(str(value), key.value, vr)
    if vr in NUMERIC_VRS:
        return _match_number(value, key.value)
    return _match_string(str(value), key.value)


def uid_list(value: str) -> frozenset[str]:
    return frozenset(v for v in re.split(r"[\\,]", value) if v)


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


@lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _match_string(value: str, pattern: str) -> bool:
    if has_wildcard(pattern):
        return _wildcard(pattern, False).fullmatch(value.strip()) is not None
    return value.strip() == pattern.strip()


def _match_person_name(name: str, pattern: str, fuzzy: bool) -> bool:
    if fuzzy:
        words = normalize_name(name).split()
        wanted = normalize_name(pattern.replace("*", " ").replace("?", " ")).split()
        return all(any(w.startswith(q) for w in words) for q in wanted)
    alphabetic = pattern.split("=", 1)[0]
    if has_wildcard(alphabetic):
        regex = _wildcard(alphabetic, True)
        return any(regex.fullmatch(n) is not None for n in (name, name.rstrip("^ ")))
    return name.casefold().strip().rstrip("^ ") == alphabetic.casefold().strip().rstrip("^ ")


def _match_number(value: Any, pattern: str) -> bool:
    try:
        return float(value) == float(pattern)
    except (TypeError, ValueError):
        return str(value).strip() == pattern.strip()


def _normal_time(value: str) -> str:
    """HHMMSS.FFFFFF with the missing digits of an imprecise time left as they are."""
    return value.replace(":", "").strip()


def _bounds(value: str, vr: str) -> tuple[str, str]:
    """Inclusive lower and upper string bounds covering the precision of ``value``."""
    value = value.strip()
    if vr == "DA":
        value = value.replace("-", "") if len(value) == 10 and value[4] == "-" else value
        return value, value
    if vr == "TM":
        value = _normal_time(value)
    return value, value + "\uffff"


def _match_range(stored: str, query: str, vr: str) -> bool:
    if vr == "DT":
        return _match_datetime(stored, query)
    stored = _normal_time(stored) if vr == "TM" else stored.strip()
    if "-" not in query:
        low, high = _bounds(query, vr)
        return low <= stored <= high
    start, _, end = query.partition("-")
    if start and stored < _bounds(start, vr)[0]:
        return False
    return not (end and stored > _bounds(end, vr)[1])


# -- DT (PS3.5 §6.2: YYYYMMDDHHMMSS.FFFFFF&ZZXX, trailing components optional) --------------
_DT = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?)?)?)?"
    r"([+-]\d{4})?"
)
_MICROS = 1_000_000
_EPOCH = datetime(1, 1, 1)


@dataclass(frozen=True)
class Moment:
    """A DT value as the span it covers, in microseconds of clock time, and its UTC offset."""

    low: int
    high: int
    offset_minutes: int | None


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * _MICROS + delta.microseconds


def _start_of_next(start: datetime, *, month: bool) -> int:
    """Microseconds at the start of the month (or year) after the one ``start`` is in."""
    year, next_month = (start.year, start.month + 1) if month else (start.year + 1, 1)
    if next_month > 12:
        year, next_month = year + 1, 1
    if year > 9999:
        return _micros(datetime.max) + 1
    return _micros(datetime(year, next_month, 1))


@lru_cache(maxsize=4096)
def parse_datetime(text: str) -> Moment | None:
    """The span a DT value covers, or None if it is not a valid DT value."""
    match = _DT.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        start = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            min(int(second or 0), 59),  # a leap second (60) counts as its minute's last
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        return None
    low = _micros(start)
    if fraction:
        span = 10 ** (6 - len(fraction))
    elif second or minute or hour or day:
        span = (1 if second else 60 if minute else 3600 if hour else 86400) * _MICROS
    else:
        span = _start_of_next(start, month=bool(month)) - low
    minutes = None
    if offset:
        hours, mins = int(offset[1:3]), int(offset[3:5])
        minutes = (hours * 60 + mins) * (-1 if offset[0] == "-" else 1)
        if mins > 59 or not -12 * 60 <= minutes <= 14 * 60:
            return None
    return Moment(low, low + span - 1, minutes)


def _instants(a: Moment, a_value: int, b: Moment, b_value: int) -> tuple[int, int]:
    """Two points of ``a`` and ``b`` made comparable: in UTC if both carry an offset."""
    if a.offset_minutes is None or b.offset_minutes is None:
        return a_value, b_value
    return (
        a_value - a.offset_minutes * 60 * _MICROS,
        b_value - b.offset_minutes * 60 * _MICROS,
    )


def _ordered(start: Moment, end: Moment) -> bool:
    first, last = _instants(start, start.low, end, end.high)
    return first <= last


@lru_cache(maxsize=1024)
def datetime_key(value: str) -> tuple[Moment | None, Moment | None] | None:
    """A DT key as (start, end) of a range, open ends None; (m, m) for a single value.

    None if ``value`` is neither. The ``-`` of a UTC offset and the range separator share
    one character: an ordered range wins, then a single value, then an unordered range.
    """
    single = parse_datetime(value)
    candidates: list[tuple[Moment | None, Moment | None]] = []
    for i, char in enumerate(value):
        if char != "-":
            continue
        first, second = value[:i], value[i + 1 :]
        start = parse_datetime(first) if first else None
        end = parse_datetime(second) if second else None
        if (first and start is None) or (second and end is None) or not (first or second):
            continue
        if start is None or end is None or _ordered(start, end):
            return start, end
        candidates.append((start, end))
    if single is not None:
        return single, single
    return candidates[0] if candidates else None


def _match_datetime(stored: str, query: str) -> bool:
    moment = parse_datetime(stored)
    bounds = datetime_key(query.strip())
    if moment is None or bounds is None:
        return False
    start, end = bounds
    if start is not None:
        value, low = _instants(moment, moment.low, start, start.low)
        if value < low:
            return False
    if end is not None:
        value, high = _instants(moment, moment.low, end, end.high)
        if value > high:
            return False
    return True
