"""Build DICOM JSON datasets (PS3.18 Annex F) and matching keys by keyword, for table tests."""

from __future__ import annotations

from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword

from cloudpacs.model import JsonDataset
from cloudpacs.services.matching import MatchKey


def tag(keyword: str) -> str:
    found = tag_for_keyword(keyword)
    assert found is not None, keyword
    return f"{found:08X}"


def vr_of(keyword: str) -> str:
    found = tag_for_keyword(keyword)
    assert found is not None, keyword
    return dictionary_VR(found).split(" or ")[0]


def element(keyword: str, *values: Any) -> dict[str, Any]:
    """``{"vr": ..., "Value": [...]}``; PN strings become ``{"Alphabetic": ...}``."""
    vr = vr_of(keyword)
    if not values:
        return {"vr": vr}
    if vr == "PN":
        values = tuple({"Alphabetic": v} if isinstance(v, str) else v for v in values)
    if vr == "SQ":
        values = tuple(dataset(**item) for item in values)
    return {"vr": vr, "Value": list(values)}


def dataset(**attributes: Any) -> JsonDataset:
    """``dataset(PatientName="Doe^John", ModalitiesInStudy=["CT", "MR"], PatientID=[])``.

    A list gives several values (an empty list: an empty element); a sequence is a list of
    dicts of keyword attributes.
    """
    out: JsonDataset = {}
    for keyword, value in attributes.items():
        values = value if isinstance(value, list) else [value]
        out[tag(keyword)] = element(keyword, *values)
    return out


def key(attribute: str, value: str) -> MatchKey:
    """A matching key for a keyword or a dotted sequence path."""
    parts = attribute.split(".")
    return MatchKey(tuple(tag(p) for p in parts), vr_of(parts[-1]), value)
