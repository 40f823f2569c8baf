"""Frame byte ranges inside a stored Part-10 object (PS3.5 §A.4 encapsulation).

Recorded once at ingest so that WADO-RS frame retrieval is one ranged read of the frame's
bytes, never a read of the whole object. Returns None where frames are not addressable by
byte ranges (deflated datasets, bit-packed native data, inconsistent lengths); retrieval then
falls back to decoding the whole object.
"""

from __future__ import annotations

import struct

from pydicom.dataset import Dataset
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import DeflatedExplicitVRLittleEndian

from cloudpacs.model import ByteRange, FrameTable

ITEM = 0xE000FFFE  # (FFFE,E000) read as little-endian uint32 of group, element
SEQUENCE_DELIMITER = 0xE0DDFFFE
_HEADER = struct.Struct("<HHI")
_JPEG_SOI = b"\xff\xd8"
_J2K_SOC = b"\xff\x4f\xff\x51"
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  "


def number_of_frames(ds: Dataset) -> int:
    try:
        value = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        value = 1
    return max(value, 1)


def native_frames(ds: Dataset, value_offset: int, value_length: int) -> FrameTable | None:
    count = number_of_frames(ds)
    try:
        total = int(get_expected_length(ds, unit="bytes"))
    except Exception:  # attributes missing or malformed (e.g. Rows given as text)
        return None
    frame_length = total // count
    bits = int(ds.get("BitsAllocated") or 0)
    frame_bits = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel") or 1) * bits
    if count > 1 and (total % count or frame_bits % 8):
        return None  # bit-packed frames that do not start on a byte boundary
    if frame_length * count > value_length:
        return None
    return FrameTable(count=count, native=(value_offset, frame_length))


def _fragments(data: bytes, offset: int) -> tuple[bytes, list[ByteRange]] | None:
    """Basic Offset Table value and the (offset, length) of each fragment's value."""
    pos = offset
    end = len(data)
    bot = b""
    fragments: list[ByteRange] = []
    first = True
    while pos + 8 <= end:
        group, element, length = _HEADER.unpack_from(data, pos)
        tag = (element << 16) | group
        pos += 8
        if tag == SEQUENCE_DELIMITER:
            return bot, fragments
        if tag != ITEM or pos + length > end:
            return None
        if first:
            bot = data[pos : pos + length]
            first = False
        else:
            fragments.append((pos, length))
        pos += length
    return None


def _starts_frame(data: bytes, fragment: ByteRange) -> bool:
    head = data[fragment[0] : fragment[0] + 12]
    return head.startswith((_JPEG_SOI, _J2K_SOC, _JP2_SIGNATURE))


def _group_by_offsets(
    fragments: list[ByteRange], first_item: int, starts: list[int]
) -> list[list[ByteRange]] | None:
    """Group fragments by frame start offsets measured from the first fragment's item tag."""
    frames: list[list[ByteRange]] = []
    bounds = set(starts)
    for frag in fragments:
        relative = frag[0] - 8 - first_item
        if relative in bounds or not frames:
            frames.append([])
        frames[-1].append(frag)
    return frames if len(frames) == len(starts) else None


def encapsulated_frames(ds: Dataset, data: bytes, value_offset: int) -> FrameTable | None:
    parsed = _fragments(data, value_offset)
    if parsed is None or not parsed[1]:
        return None
    bot, fragments = parsed
    count = number_of_frames(ds)
    first_item = fragments[0][0] - 8
    groups: list[list[ByteRange]] | None
    eot = ds.get("ExtendedOffsetTable")
    if eot is not None and len(eot) == 8 * count:
        groups = _group_by_offsets(fragments, first_item, list(struct.unpack(f"<{count}Q", eot)))
    elif len(bot) == 4 * count and count > 1:
        groups = _group_by_offsets(fragments, first_item, list(struct.unpack(f"<{count}L", bot)))
    elif count == 1:
        groups = [fragments]
    elif len(fragments) == count:
        groups = [[f] for f in fragments]
    else:
        groups = []
        for frag in fragments:
            if not groups or _starts_frame(data, frag):
                groups.append([])
            groups[-1].append(frag)
        if len(groups) != count:
            groups = None
    if groups is None:
        return None
    return FrameTable(count=count, fragments=tuple(tuple(g) for g in groups))


def frame_table(
    ds: Dataset, data: bytes, transfer_syntax: str, value_offset: int, value_length: int
) -> FrameTable | None:
    """The frame table of an object whose Pixel Data value starts at ``value_offset``."""
    if transfer_syntax == DeflatedExplicitVRLittleEndian:
        return None
    if value_length == 0xFFFFFFFF:
        return encapsulated_frames(ds, data, value_offset)
    if value_offset + value_length > len(data):
        return None  # truncated: the value's declared length runs past the end
    return native_frames(ds, value_offset, value_length)


def join_fragments(raw: bytes, ranges: tuple[ByteRange, ...]) -> bytes:
    """Cut a frame's fragment values out of one read that spans ``ranges``."""
    if len(ranges) == 1:
        return raw
    start = ranges[0][0]
    return b"".join(raw[off - start : off - start + length] for off, length in ranges)
