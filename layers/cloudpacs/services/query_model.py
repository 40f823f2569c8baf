"""A search request, independent of how it arrived (QIDO-RS parameters or a C-FIND identifier).

``parse_qido`` turns PS3.18 §8.3.4 query parameters into a ``Query``: attribute IDs are
keywords or tags, dotted for sequence paths (``RequestAttributesSequence.RequestedProcedureID``
or ``00400275.00401001``); ``includefield`` lists attributes or ``all``; ``fuzzymatching``,
``limit`` and ``offset`` control matching and paging. Unknown attributes and malformed
values are rejected with 400 and a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

from cloudpacs.dicom.attributes import Level
from cloudpacs.errors import BadRequest
from cloudpacs.services.matching import (
    NUMERIC_VRS,
    RANGE_VRS,
    MatchKey,
    datetime_key,
    has_wildcard,
    uid_list,
)
from cloudpacs.uids import is_valid_uid

_TAG = re.compile(r"[0-9A-Fa-f]{8}")
_DATE = re.compile(r"\d{8}")
_TIME = re.compile(r"\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DIGITS = re.compile(r"[0-9]+")
WILDCARD_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
"""PS3.4 C.2.2.2.4: the VRs whose keys may hold ``*`` and ``?``."""
RESERVED = frozenset({"includefield", "fuzzymatching", "limit", "offset"})


@dataclass(frozen=True)
class Query:
    level: Level
    keys: tuple[MatchKey, ...] = ()
    include: frozenset[str] = frozenset()
    """Extra tags to return besides the level's defaults."""
    include_all: bool = False
    fuzzy: bool = False
    limit: int | None = None
    offset: int = 0
    study_uid: str | None = None
    """Scope from the resource path (``/studies/{study}/...``)."""
    series_uid: str | None = None

    def key(self, tag: str) -> MatchKey | None:
        for k in self.keys:
            if len(k.path) == 1 and k.tag == tag:
                return k
        return None


def resolve_attribute(attribute_id: str) -> tuple[tuple[str, ...], str]:
    """Tag path and leaf VR of a QIDO attribute ID; raise BadRequest if unknown."""
    path: list[str] = []
    vr = ""
    for part in attribute_id.split("."):
        if not part:
            raise BadRequest(f"unknown attribute {attribute_id!r}")
        if _TAG.fullmatch(part):
            tag = int(part, 16)
        else:
            found = tag_for_keyword(part)
            if found is None:
                raise BadRequest(f"unknown attribute {attribute_id!r}")
            tag = found
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            raise BadRequest(f"unknown attribute {attribute_id!r}") from None
        path.append(f"{tag:08X}")
    for tag_hex in path[:-1]:
        if dictionary_VR(int(tag_hex, 16)) != "SQ":
            raise BadRequest(f"{attribute_id!r}: only sequences can have nested attributes")
    if vr == "SQ":
        raise BadRequest(f"{attribute_id!r}: match on an attribute inside the sequence")
    return tuple(path), vr.split(" or ")[0]


def check_match_value(name: str, vr: str, value: str) -> None:
    """Reject values that cannot be a matching key for their VR (PS3.4 C.2.2.2)."""
    if value == "":
        return
    if vr == "UI":
        bad = [u for u in uid_list(value) if not is_valid_uid(u)]
        if bad or not uid_list(value):
            raise BadRequest(f"{name}: invalid UID in {value[:80]!r}")
        return
    if vr == "DT":
        if datetime_key(value) is None:
            raise BadRequest(f"{name}: {value[:40]!r} is not a valid DT value or range")
        return
    if vr in RANGE_VRS:
        pattern = {"DA": _DATE, "TM": _TIME}[vr]
        parts = value.split("-")
        if (
            len(parts) > 2
            or not any(parts)
            or not all(p == "" or pattern.fullmatch(p) for p in parts)
        ):
            raise BadRequest(f"{name}: {value[:40]!r} is not a valid {vr} value or range")
        return
    if has_wildcard(value) and vr not in WILDCARD_VRS:
        raise BadRequest(f"{name}: wildcards are not allowed for VR {vr}")
    if vr in NUMERIC_VRS and not _NUMBER.fullmatch(value.strip()):
        raise BadRequest(f"{name}: {value[:40]!r} is not a number")


def _non_negative_int(name: str, value: str) -> int:
    if not _DIGITS.fullmatch(value):
        raise BadRequest(f"{name} must be a non-negative integer, got {value[:20]!r}")
    return int(value)


def parse_qido(
    params: list[tuple[str, str]],
    level: Level,
    *,
    study_uid: str | None = None,
    series_uid: str | None = None,
) -> Query:
    keys: dict[tuple[str, ...], MatchKey] = {}
    include: set[str] = set()
    include_all = False
    fuzzy = False
    limit: int | None = None
    offset = 0
    for name, value in params:
        if name == "includefield":
            for item in (v.strip() for v in value.split(",")):
                if item == "all":
                    include_all = True
                elif item:
                    include.add(resolve_attribute(item)[0][0])
        elif name == "fuzzymatching":
            if value not in ("true", "false"):
                raise BadRequest("fuzzymatching must be 'true' or 'false'")
            fuzzy = value == "true"
        elif name == "limit":
            limit = _non_negative_int(name, value)
        elif name == "offset":
            offset = _non_negative_int(name, value)
        else:
            path, vr = resolve_attribute(name)
            check_match_value(name, vr, value)
            if path in keys:
                if vr != "UI":
                    raise BadRequest(f"{name} is given more than once")
                value = f"{keys[path].value}\\{value}"
            keys[path] = MatchKey(path, vr, value)
    return Query(
        level=level,
        keys=tuple(keys.values()),
        include=frozenset(include),
        include_all=include_all,
        fuzzy=fuzzy,
        limit=limit,
        offset=offset,
        study_uid=study_uid,
        series_uid=series_uid,
    )


def keyword(tag: str) -> str:
    return keyword_for_tag(int(tag, 16)) or tag
