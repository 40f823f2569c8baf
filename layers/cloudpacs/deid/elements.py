"""Value operations by Value Representation: dummy ("D"), empty ("Z"), and tag listing.

Dummy values are fixed and say what they are; none is derived from the original value, so a
"D" never discloses anything. UIDs are the exception: a "D" on a UI gets the keyed pseudonym
so that references stay consistent.
"""

from __future__ import annotations

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

DUMMY_TEXT = "DEIDENTIFIED"
TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
STRING_VRS = TEXT_VRS | {"PN", "AE", "AS", "CS", "DA", "DT", "TM", "DS", "IS", "UI", "UR"}
NUMBER_VRS = frozenset({"FL", "FD", "SL", "SS", "UL", "US", "SV", "UV"})
BYTES_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})

_DUMMY_BY_VR: dict[str, str] = {
    "AE": DUMMY_TEXT,
    "AS": "000D",
    "CS": DUMMY_TEXT,
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "DS": "0",
    "IS": "0",
    "PN": DUMMY_TEXT,
    "UR": "",
}


def tags_of(ds: Dataset) -> list[BaseTag]:
    """The tags of one dataset level (iterating a Dataset yields elements, not tags)."""
    return list(ds.keys())


def set_empty(elem: DataElement) -> None:
    """Z: a zero-length value of the element's VR."""
    if elem.VR == "SQ":
        elem.value = Sequence([])
    elif elem.VR in BYTES_VRS:
        elem.value = b""
    else:
        elem.value = None if elem.VR in NUMBER_VRS else ""


def dummy_value(vr: str) -> str | bytes | int | None:
    """D: a fixed non-zero-length value consistent with the VR (not for SQ or UI)."""
    if vr in _DUMMY_BY_VR:
        return _DUMMY_BY_VR[vr]
    if vr in TEXT_VRS:
        return DUMMY_TEXT
    if vr in NUMBER_VRS:
        return 0
    if vr in BYTES_VRS:
        return b"\x00\x00"
    return None
