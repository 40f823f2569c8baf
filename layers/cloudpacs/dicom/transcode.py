"""Transfer syntax changes on retrieval (PS3.18 §8.7.3.5).

Objects are stored as received. A client that asks for an explicit uncompressed transfer
syntax gets the object re-encoded when pydicom can decode its pixel data; otherwise the
request is answered 406. Transfer syntaxes for frames map to the media types of PS3.18
Table 8.7.3-3 (single-frame/multi-frame image media types).
"""

from __future__ import annotations

import io

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from cloudpacs.errors import NotAcceptable

UNCOMPRESSED = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian, "1.2.840.10008.1.2.2"})

FRAME_MEDIA_TYPES: dict[str, str] = {
    "1.2.840.10008.1.2.4.50": "image/jpeg",
    "1.2.840.10008.1.2.4.51": "image/jpeg",
    "1.2.840.10008.1.2.4.57": "image/jpeg",
    "1.2.840.10008.1.2.4.70": "image/jpeg",
    "1.2.840.10008.1.2.4.80": "image/jls",
    "1.2.840.10008.1.2.4.81": "image/jls",
    "1.2.840.10008.1.2.4.90": "image/jp2",
    "1.2.840.10008.1.2.4.91": "image/jp2",
    "1.2.840.10008.1.2.4.92": "image/jpx",
    "1.2.840.10008.1.2.4.93": "image/jpx",
    "1.2.840.10008.1.2.4.201": "image/jphc",
    "1.2.840.10008.1.2.4.202": "image/jphc",
    "1.2.840.10008.1.2.4.203": "image/jphc",
    "1.2.840.10008.1.2.5": "image/dicom-rle",
}


def frame_media_type(transfer_syntax: str) -> str:
    """The media type of a frame kept in ``transfer_syntax`` (octet-stream when native)."""
    return FRAME_MEDIA_TYPES.get(transfer_syntax, "application/octet-stream")


def can_decode(transfer_syntax: str) -> bool:
    if transfer_syntax in UNCOMPRESSED:
        return True
    try:
        from pydicom.pixels.decoders.base import get_decoder

        return bool(get_decoder(UID(transfer_syntax)).is_available)
    except (NotImplementedError, ValueError, ImportError):
        return False


def to_explicit_little(data: bytes, stored_syntax: str) -> bytes:
    """Re-encode a Part-10 object in Explicit VR Little Endian, decompressing pixel data."""
    if not can_decode(stored_syntax):
        raise NotAcceptable(
            f"cannot convert transfer syntax {stored_syntax} to {ExplicitVRLittleEndian}"
        )
    ds = pydicom.dcmread(io.BytesIO(data))
    try:
        if ds.file_meta.TransferSyntaxUID.is_compressed:
            ds.decompress()
    except Exception as exc:
        raise NotAcceptable(f"pixel data could not be decompressed: {exc}") from None
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = io.BytesIO()
    ds.save_as(out, implicit_vr=False, little_endian=True, enforce_file_format=True)
    return out.getvalue()


def decode_frame(data: bytes, number: int) -> bytes:
    """Frame ``number`` (1-based) decoded to native little-endian pixel bytes."""
    from pydicom.pixels.utils import pixel_array

    try:
        arr = pixel_array(io.BytesIO(data), index=number - 1)
    except Exception as exc:
        raise NotAcceptable(f"frame could not be decoded: {exc}") from None
    return bytes(arr.astype(arr.dtype.newbyteorder("<")).tobytes())


def header_dataset(prefix: bytes) -> Dataset:
    """The dataset stored in the first ``header_length`` bytes of an object."""
    return pydicom.dcmread(io.BytesIO(prefix), stop_before_pixels=True)
