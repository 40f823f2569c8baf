"""Frame tables inside a DynamoDB item, which may not exceed 400 KB.

A native frame table is two numbers. An encapsulated one lists every fragment of every
frame, about 20 bytes of JSON per fragment: a whole-slide level with 100 000 tiles would
need 2 MB. So a table is stored in the smallest of three forms:

1. ``frames`` (String): ``FrameTable.to_json`` as compact JSON, when it is at most
   ``INLINE_MAX`` bytes (the common case: single-frame or few frames).
2. ``frames_z`` (Binary): zlib-compressed JSON in which each fragment is written as
   (gap since the end of the previous fragment, length). Fragments of one stream are
   contiguous apart from their 8-byte item headers, so gaps are mostly ``8`` and compress
   to almost nothing: about 3 bytes per fragment, i.e. ~100 000 single-fragment frames
   within ``PACKED_MAX``.
3. Beyond ``PACKED_MAX``, the table is not stored (``frames_dropped`` keeps the frame count
   for diagnosis) and the record reads back with ``frames=None``. That is the documented
   meaning of "frames not addressable by byte ranges" (``dicom.frames``): retrieval falls
   back to reading the object, slower but correct, and the item stays well under 400 KB.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cloudpacs.model import FrameTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

log = logging.getLogger(__name__)

INLINE_MAX = 8 * 1024
PACKED_MAX = 300 * 1024


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def pack(table: FrameTable) -> bytes:
    """The compressed gap/length form of a frame table."""
    if table.native is not None:
        return zlib.compress(_compact(table.to_json()).encode(), 9)
    end = 0
    frames: list[list[int]] = []
    for fragments in table.fragments:
        flat: list[int] = []
        for offset, length in fragments:
            flat += [offset - end, length]
            end = offset + length
        frames.append(flat)
    return zlib.compress(_compact({"n": table.count, "d": frames}).encode(), 9)


def unpack(blob: bytes) -> FrameTable:
    data = json.loads(zlib.decompress(blob))
    if "d" not in data:
        return FrameTable.from_json(data)
    end = 0
    frames: list[tuple[tuple[int, int], ...]] = []
    for flat in data["d"]:
        ranges: list[tuple[int, int]] = []
        for gap, length in zip(flat[0::2], flat[1::2], strict=True):
            offset = end + gap
            ranges.append((offset, length))
            end = offset + length
        frames.append(tuple(ranges))
    return FrameTable(count=int(data["n"]), fragments=tuple(frames))


def frames_to_item(table: FrameTable, sop_uid: str) -> dict[str, AttributeValueTypeDef]:
    """The item attribute holding ``table``, in the smallest form that fits (module doc)."""
    text = _compact(table.to_json())
    if len(text) <= INLINE_MAX:
        return {"frames": {"S": text}}
    blob = pack(table)
    if len(blob) <= PACKED_MAX:
        return {"frames_z": {"B": blob}}
    log.warning(
        "frame table of %s (%d frames, %d bytes packed) exceeds %d bytes; not indexed",
        sop_uid,
        table.count,
        len(blob),
        PACKED_MAX,
    )
    return {"frames_dropped": {"N": str(table.count)}}


def frames_from_item(item: Mapping[str, Any]) -> FrameTable | None:
    if "frames" in item:
        return FrameTable.from_json(json.loads(item["frames"]["S"]))
    if "frames_z" in item:
        return unpack(bytes(item["frames_z"]["B"]))
    return None
