"""A header reader for ingest: the element layout of a Part-10 object, without pydicom.

Walks the File Meta Information (PS3.10 §7.1, always Explicit VR Little Endian) and the
top-level data set (PS3.5 §7.1: Explicit or Implicit VR Little Endian), skipping values by
their lengths and sequences of undefined length by their delimiters (PS3.5 §7.5), and
records where each top-level element's value lies. Pixel Data is not read: its position is
recorded and its encapsulated fragments are left to ``dicom.frames``.

It answers only for objects it understands completely; ``scan`` returns None for anything
else (Big Endian, deflated, an unknown VR, a length running past the end, a meta group not
encoded as the standard says), and the caller then reads the object with pydicom, so odd
objects get exactly the treatment they always had.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pydicom.uid import ImplicitVRLittleEndian

PIXEL_DATA = 0x7FE00010
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQUENCE_END = 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF
_TAG = struct.Struct("<HH")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_LONG_VRS = frozenset(
    b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split()
)  # 4-byte length after 2 reserved bytes (PS3.5 Table 7.1-1)
_SHORT_VRS = frozenset(b"AE AS AT CS DA DS DT FL FD IS LO LT PN SH SL SS ST TM UI UL US".split())
_BIG_ENDIAN_OR_DEFLATED = ("1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99")


@dataclass(frozen=True)
class Element:
    tag: int
    vr: str | None
    """None in Implicit VR data sets: the data dictionary's VR applies."""
    start: int
    """Offset of the element's first byte (its tag)."""
    value: int
    """Offset of the value."""
    length: int
    """Value length; ``UNDEFINED`` for sequences and encapsulated Pixel Data."""
    end: int = 0
    """Offset after the element (after its delimiter when of undefined length)."""


@dataclass(frozen=True)
class Header:
    transfer_syntax: str
    implicit: bool
    elements: dict[int, Element]
    """Top-level data set elements (no File Meta), by tag."""


class _Unreadable(Exception):
    """Not for this reader: the caller reads the object with pydicom instead."""


def scan(data: bytes | memoryview) -> Header | None:
    """The layout of ``data``, or None when it is not an object this reader handles."""
    try:
        return _scan(memoryview(data))
    except (_Unreadable, struct.error, UnicodeDecodeError):
        return None


def _scan(buf: memoryview) -> Header:
    if len(buf) < 144 or bytes(buf[128:132]) != b"DICM":
        raise _Unreadable
    pos = 132
    syntax = ""
    end = len(buf)
    while pos + 8 <= end:
        group, elem = _TAG.unpack_from(buf, pos)
        if group != 0x0002:
            break
        _vr, value, length = _explicit(buf, pos)
        if length == UNDEFINED:
            raise _Unreadable
        if (group << 16) | elem == 0x00020010:
            syntax = bytes(buf[value : value + length]).decode("ascii").rstrip("\0 ")
        pos = value + length
    if pos > end or not syntax or syntax in _BIG_ENDIAN_OR_DEFLATED:
        raise _Unreadable
    implicit = syntax == ImplicitVRLittleEndian
    elements: dict[int, Element] = {}
    while pos < end:
        if pos + 8 > end:
            raise _Unreadable
        group, elem = _TAG.unpack_from(buf, pos)
        if group == 0x0002 or group == 0xFFFE:
            raise _Unreadable  # meta after the data set began, or a stray item
        tag = (group << 16) | elem
        if tag in elements:
            raise _Unreadable
        start = pos
        vr: str | None
        if implicit:
            vr, value, length = None, pos + 8, _U32.unpack_from(buf, pos + 4)[0]
        else:
            vr, value, length = _explicit(buf, pos)
        if length == UNDEFINED:
            # An UN value of undefined length is encoded as Implicit VR (PS3.5 §6.2.2).
            pos = _skip_undefined(buf, value, implicit or vr == "UN")
        else:
            pos = value + length
            if pos > end:
                raise _Unreadable
        elements[tag] = Element(tag, vr, start, value, length, pos)
    return Header(syntax, implicit, elements)


def _explicit(buf: memoryview, pos: int) -> tuple[str, int, int]:
    """VR, value offset and value length of the Explicit VR element at ``pos``."""
    vr = bytes(buf[pos + 4 : pos + 6])
    if vr in _LONG_VRS:
        length = _U32.unpack_from(buf, pos + 8)[0]
        header = 12
    elif vr in _SHORT_VRS:
        length = _U16.unpack_from(buf, pos + 6)[0]
        header = 8
    else:
        raise _Unreadable
    if pos + header > len(buf):
        raise _Unreadable
    return vr.decode("ascii"), pos + header, length


def _skip_undefined(buf: memoryview, pos: int, implicit: bool) -> int:
    """The offset after the Sequence Delimitation Item of a value of undefined length.

    Items (and Pixel Data fragments) of defined length are skipped whole; an item of
    undefined length is walked element by element to its Item Delimitation Item.
    """
    end = len(buf)
    while pos + 8 <= end:
        tag = _item_tag(buf, pos)
        length = _U32.unpack_from(buf, pos + 4)[0]
        pos += 8
        if tag == _SEQUENCE_END:
            return pos
        if tag != _ITEM:
            raise _Unreadable
        if length != UNDEFINED:
            pos += length
            continue
        pos = _skip_item(buf, pos, implicit)
    raise _Unreadable


def _skip_item(buf: memoryview, pos: int, implicit: bool) -> int:
    end = len(buf)
    while pos + 8 <= end:
        group, elem = _TAG.unpack_from(buf, pos)
        if (group << 16) | elem == _ITEM_END:
            return pos + 8
        implicit_value = False
        if implicit or group == 0xFFFE:
            length = _U32.unpack_from(buf, pos + 4)[0]
            pos += 8
        else:
            vr, pos, length = _explicit(buf, pos)
            implicit_value = vr == "UN"
        if length == UNDEFINED:
            pos = _skip_undefined(buf, pos, implicit or implicit_value)
        else:
            pos += length
    raise _Unreadable


def _item_tag(buf: memoryview, pos: int) -> int:
    group, elem = _TAG.unpack_from(buf, pos)
    return int((group << 16) | elem)
