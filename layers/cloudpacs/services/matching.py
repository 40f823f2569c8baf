"""Attribute matching, PS3.4 §C.2.2.2, shared by QIDO-RS (PS3.18 §8.3.4) and C-FIND.

Implemented once, over DICOM JSON datasets:

- Universal matching (C.2.2.2.3): an empty key value matches every entity.
- Single value matching (C.2.2.2.1): exact and case-sensitive, except PN, which is matched
  case-insensitively here (the standard leaves PN case sensitivity to the implementation).
- Wild card matching (C.2.2.2.4): ``*`` any run of characters, ``?`` one character, for
  every string VR except DA, DT, TM and UI.
- List of UID matching (C.2.2.2.2): UIDs separated by ``\\`` (or ``,`` in QIDO-RS).
- Range matching (C.2.2.2.5): ``a-b``, ``-b``, ``a-`` for DA, TM and DT; a single TM or
  DT value matches everything within its precision.
- Sequence matching (C.2.2.2.6): a key inside a sequence matches if any item matches.
- Multi-valued attributes match when any of their values matches.
- Fuzzy semantic matching of PN (PS3.18 ``fuzzymatching=true``): case and accent
  insensitive; every word of the key must be the prefix of some word of the name.

An entity whose attribute is absent or empty matches only universal and ``*`` keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    return all(matches(dataset, k, fuzzy=fuzzy) for k in keys)


def _match_path(dataset: JsonDataset, key: MatchKey, path: tuple[str, ...], fuzzy: bool) -> bool:
    element = dataset.get(path[0])
    values = element.get("Value") if element else None
    if len(path) > 1:
        return any(
            isinstance(item, dict) and _match_path(item, key, path[1:], fuzzy)
            for item in values or ()
        )
    if not values:
        return key.value == "*"
    return any(_match_value(v, key, fuzzy) for v in values)


def _match_value(value: Any, key: MatchKey, fuzzy: bool) -> bool:
    vr = key.vr
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
        return _wildcard(alphabetic, True).fullmatch(name) is not None
    return name.casefold().rstrip("^ ") == alphabetic.casefold().rstrip("^ ")


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
    stored = _normal_time(stored) if vr == "TM" else stored.strip()
    if "-" not in query or (vr == "DT" and _is_single_datetime(query)):
        low, high = _bounds(query, vr)
        return low <= stored <= high
    start, _, end = query.partition("-")
    if start and stored < _bounds(start, vr)[0]:
        return False
    return not (end and stored > _bounds(end, vr)[1])


def _is_single_datetime(query: str) -> bool:
    """A DT value with a UTC offset (``...-0500``) is a single value, not a range."""
    return re.fullmatch(r"\d{4,14}(\.\d{1,6})?[+-]\d{4}", query) is not None
