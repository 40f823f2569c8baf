"""DICOM JSON (PS3.18 Annex F) of the index attributes, straight from their encoded bytes.

The same values ``json_model.select`` gives for a data set read by pydicom, at a fraction
of the cost, for the value representations the index keeps (UI, CS, DA, TM, DT, SH, LO, PN,
IS, US, UL, SS, SL) in the character sets that need no escape sequences (default, ISO_IR 100,
ISO_IR 192). Every other element (sequences, other character sets, values pydicom would
correct or warn about) is converted by pydicom itself, so the result is pydicom's in every
case; ``tests/unit/test_header_reader.py`` compares both over pydicom's test files.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from functools import cache
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from cloudpacs.dicom import json_model
from cloudpacs.dicom.header import PIXEL_DATA, UNDEFINED, Element, Header
from cloudpacs.model import JsonDataset

SPECIFIC_CHARACTER_SET = 0x00080005
_CHARSETS = {"": "latin_1", "ISO_IR 6": "latin_1", "ISO_IR 100": "latin_1", "ISO_IR 192": "utf-8"}
"""Character sets decoded here; pydicom's default (no Specific Character Set) is latin-1."""
_STRING = frozenset(("UI", "CS", "DA", "TM", "DT"))
"""Always in the default repertoire; pydicom strips trailing spaces and NULs of the whole
value, then splits it."""
_TEXT = frozenset(("SH", "LO"))
"""Decoded with the character set; each value's trailing spaces and NULs stripped."""
_INTEGERS = {"US": "H", "UL": "L", "SS": "h", "SL": "l"}
_IS = re.compile(r" *[+-]?[0-9]{1,12} *")
_PLAIN = re.compile(r"[\x20-\x7e]*")
_PN_PLAIN = re.compile(r"[^=\x00-\x1f\\]*")


@cache
def tag_of(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return int(tag)


@cache
def _dictionary_vr(tag: int) -> str | None:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None


class RawJson:
    """Converts the top-level elements of one scanned object, pydicom for the rest."""

    def __init__(self, data: bytes, header: Header) -> None:
        self.data = data
        self.header = header
        self._fallback: Dataset | None = None
        charset = self._charset()
        self.encoding = _CHARSETS.get(charset) if charset is not None else None

    def _charset(self) -> str | None:
        """The Specific Character Set if it is a single term, else None."""
        element = self.header.elements.get(SPECIFIC_CHARACTER_SET)
        if element is None:
            return ""
        text = self._bytes(element).decode("latin_1").strip(" \0")
        return None if "\\" in text else text

    def _bytes(self, element: Element) -> bytes:
        return self.data[element.value : element.value + element.length]

    def select(self, keywords: Iterable[str]) -> JsonDataset:
        """Like ``json_model.select``: the named attributes present, as DICOM JSON."""
        out: JsonDataset = {}
        for keyword in keywords:
            tag = tag_of(keyword)
            element = self.header.elements.get(tag)
            if element is None:
                continue
            value = self.element_json(element)
            if value is not None:
                out[f"{tag:08X}"] = value
        return out

    def element_json(self, element: Element) -> dict[str, Any] | None:
        vr = element.vr or _dictionary_vr(element.tag)
        fast = self._fast(vr, element) if vr is not None else None
        return fast if fast is not None else self._pydicom(element)

    def _fast(self, vr: str, element: Element) -> dict[str, Any] | None:
        """The JSON of a plain value, or None to leave the element to pydicom."""
        raw = self._bytes(element)
        if vr in _INTEGERS:
            size = struct.calcsize(_INTEGERS[vr])
            if len(raw) % size:
                return None
            if not raw:
                return {"vr": vr}
            numbers = struct.unpack(f"<{len(raw) // size}{_INTEGERS[vr]}", raw)
            return {"vr": vr, "Value": list(numbers)}
        if vr in _STRING or vr == "IS":
            text = raw.decode("latin_1")
            if not _PLAIN.fullmatch(text.rstrip("\0")):
                return None
            values = text.rstrip(" \0").split("\\")
            if vr == "UI":
                values = [v.rstrip("\0 ") for v in values]
            if values == [""]:
                return {"vr": vr}
            if "" in values:
                return None  # pydicom's empty values in a list vary by VR
            if vr == "IS":
                if not all(_IS.fullmatch(v) for v in values):
                    return None
                return {"vr": vr, "Value": [int(v) for v in values]}
            return {"vr": vr, "Value": values}
        if self.encoding is None or b"\x1b" in raw:
            return None
        if vr in _TEXT:
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                return None
            values = [v.rstrip("\0 ") for v in text.split("\\")]
            if values == [""]:
                return {"vr": vr}
            if "" in values or any(v.startswith(" ") for v in values):
                return None
            return {"vr": vr, "Value": values}
        if vr == "PN":
            try:
                text = raw.rstrip(b"\0 ").decode(self.encoding)
            except UnicodeDecodeError:
                return None
            if not text:
                return {"vr": vr}
            if not _PN_PLAIN.fullmatch(text) or text != text.strip():
                return None
            return {"vr": vr, "Value": [{"Alphabetic": text}]}
        return None

    def _pydicom(self, element: Element) -> dict[str, Any] | None:
        ds = self._dataset()
        return json_model.element_json(ds[element.tag])

    def _dataset(self) -> Dataset:
        """The scanned elements as pydicom raw elements, converted on first access."""
        if self._fallback is None:
            implicit = self.header.implicit
            raw: dict[BaseTag, DataElement | RawDataElement] = {
                Tag(tag): RawDataElement(Tag(tag), e.vr, len(value), value, e.value, implicit, True)
                for tag, e in self.header.elements.items()
                if tag != PIXEL_DATA
                for value in (self._value_bytes(e),)
            }
            self._fallback = Dataset(raw)
            self._fallback.set_original_encoding(implicit, True, None)
        return self._fallback

    def _value_bytes(self, element: Element) -> bytes:
        """The value; of a sequence of undefined length, its items without the delimiter."""
        if element.length != UNDEFINED:
            return self._bytes(element)
        return self.data[element.value : element.end - 8]

    def frame_dataset(self, keywords: Iterable[str]) -> Dataset:
        """A pydicom data set of the named elements, for ``dicom.frames``."""
        out = Dataset()
        for keyword in keywords:
            tag = tag_of(keyword)
            element = self.header.elements.get(tag)
            if element is None or element.length == UNDEFINED:
                continue
            vr = element.vr or _dictionary_vr(tag)
            fast = self._fast(vr, element) if vr is not None else None
            found = fast.get("Value", []) if fast is not None else None
            if vr is None:
                out[tag] = self._dataset()[tag]
            elif vr in ("OB", "OV", "OW", "UN"):
                out.add(DataElement(tag, vr, self._bytes(element)))
            elif fast is not None and found is not None and len(found) <= 1:
                out.add(DataElement(tag, vr, found[0] if found else None))
            else:
                out[tag] = self._dataset()[tag]
        return out
