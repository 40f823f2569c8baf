"""Which representation of frames a WADO-RS frames request gets (PS3.18 §8.7.3.3-4).

As stored (``transfer-syntax=*`` or the stored syntax), decoded to native bytes
(``application/octet-stream``, Explicit VR Little Endian), or encoded in the transfer syntax
named, or implied by an image media type named without one (PS3.18 Table 8.7.3-3).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.uid import ExplicitVRLittleEndian

from cloudpacs.dicom import transcode
from cloudpacs.errors import NotAcceptable
from cloudpacs.model import InstanceRecord
from cloudpacs.web.accept import Acceptable, choose

OCTET = "application/octet-stream"
EVRLE = str(ExplicitVRLittleEndian)


@dataclass(frozen=True)
class FramePlan:
    part_type: str | None
    """The media type to label parts with; None: the stored syntax's own media type."""
    decode: bool
    encode: str | None = None
    """The transfer syntax to encode each frame in; None: as stored or decoded."""


DEFAULT_FRAME_SYNTAX = {
    "image/jpeg": "1.2.840.10008.1.2.4.50",
    "image/jls": "1.2.840.10008.1.2.4.80",
    "image/jp2": "1.2.840.10008.1.2.4.90",
    "image/dicom-rle": "1.2.840.10008.1.2.5",
}
"""The transfer syntax of a frame media type named without one (PS3.18 Table 8.7.3-3)."""


def frame_plan(accept: str | None, rec: InstanceRecord) -> FramePlan:
    stored = rec.transfer_syntax_uid
    native = stored in transcode.UNCOMPRESSED
    own_type = transcode.frame_media_type(stored)
    offered = [
        t for t in transcode.producible(rec.transfer_syntax_uid) if t in transcode.FRAME_MEDIA_TYPES
    ]

    def offer(a: Acceptable) -> FramePlan | None:
        if a.media_type == "*/*" or (a.multipart and a.part_type == "*/*"):
            return FramePlan(None, False)
        if not a.multipart:
            return None
        ts = a.transfer_syntax
        if ts == "*" and a.part_matches(OCTET):
            return FramePlan(OCTET, False)
        if ts == "*" or ts == stored:
            return FramePlan(None, False) if a.part_matches(own_type) else None
        decodable = native or transcode.can_decode(stored)
        if a.part_type == OCTET and ts in (None, EVRLE) and decodable:
            return FramePlan(OCTET, not native)
        ts = ts or DEFAULT_FRAME_SYNTAX.get(a.part_type)
        if ts is None or ts not in offered or not a.part_matches(transcode.frame_media_type(ts)):
            return None
        if ts == stored:
            return FramePlan(None, False)
        return FramePlan(transcode.frame_media_type(ts), False, ts)

    try:
        return choose(accept, offer, "these frames")
    except NotAcceptable as exc:
        names = ", ".join([EVRLE, *offered])
        raise NotAcceptable(f"{exc.reason}; available transfer syntaxes: {names}") from None
