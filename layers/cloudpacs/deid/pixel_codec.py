"""Decode and re-encode Pixel Data for the Clean Pixel Data Option, with pydicom 3 directly.

``decode`` gives every frame as one array of shape (frames, rows, columns, samples), in the
stored colour space for native data; compressed data is decompressed first (pydicom converts
YCbCr to RGB and says so in Photometric Interpretation). ``encode`` writes an array back
(encoding through ``dicom.transcode``, as WADO-RS does):
in the instance's own transfer syntax when that is a lossless one pydicom can encode (RLE
Lossless, JPEG-LS Lossless, JPEG 2000 Lossless; native and deflated syntaxes stay as they
are), otherwise in Explicit VR Little Endian. A lossy source is never re-encoded lossily:
Lossy Image Compression stays as the source set it (PS3.3 C.7.6.1.1.5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.pixels.utils import pixel_array
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from cloudpacs.dicom.transcode import encode_dataset
from cloudpacs.errors import NotAcceptable

if TYPE_CHECKING:
    import numpy as np

NATIVE_KEPT = frozenset(
    {ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian}
)
LOSSLESS_ENCODABLE = frozenset({RLELossless, JPEGLSLossless, JPEG2000Lossless})


class PixelsNotDecodable(ValueError):
    """The Pixel Data cannot be decoded here (no decoder, or a layout not handled)."""


def transfer_syntax(ds: Dataset) -> UID:
    return UID(str(ds.file_meta.TransferSyntaxUID))


def decode(ds: Dataset) -> np.ndarray:
    """Every frame of ``ds`` as a writable (frames, rows, columns, samples) array.

    Compressed Pixel Data is decompressed in ``ds`` itself (its transfer syntax becomes
    Explicit VR Little Endian until ``encode``).
    """
    if "PixelData" not in ds:
        raise PixelsNotDecodable("no Pixel Data (float or double float pixel data is not cleaned)")
    if int(ds.get("BitsAllocated", 0) or 0) not in (8, 16, 32):
        raise PixelsNotDecodable(f"Bits Allocated {ds.get('BitsAllocated')} is not handled")
    try:
        if transfer_syntax(ds).is_compressed:
            ds.decompress(as_rgb=True, generate_instance_uid=False)
        arr = pixel_array(ds, as_rgb=False).copy()
    except Exception as exc:  # pydicom raises many kinds for missing plugins and bad data
        raise PixelsNotDecodable(f"{exc.__class__.__name__}: {exc}") from None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    return arr.reshape(frames, int(ds.Rows), int(ds.Columns), samples)


def encode(ds: Dataset, frames: np.ndarray, source: UID) -> UID:
    """Write ``frames`` (as from ``decode``) into ``ds``; return the transfer syntax used."""
    arr = frames
    if arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.shape[0] == 1:
        arr = arr[0]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.set_pixel_data(
        arr,
        str(ds.PhotometricInterpretation),
        int(ds.BitsStored),
        generate_instance_uid=False,
    )
    if source in NATIVE_KEPT:
        ds.file_meta.TransferSyntaxUID = source
        return source
    if source in LOSSLESS_ENCODABLE:
        try:
            encode_dataset(ds, source)
            return source
        except NotAcceptable:  # no encoder plugin, or a layout it refuses: fall back below
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.set_pixel_data(
                arr,
                str(ds.PhotometricInterpretation),
                int(ds.BitsStored),
                generate_instance_uid=False,
            )
    return UID(ExplicitVRLittleEndian)
