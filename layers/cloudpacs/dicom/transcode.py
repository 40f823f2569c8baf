"""Transfer syntax changes on retrieval (PS3.18 §8.7.3.5; PS3.5 §8, §10, Annex A).

Objects are stored as received. A client that names another transfer syntax gets the object
re-encoded when its pixel data can be decoded and the target can be produced:

- Explicit / Implicit VR Little Endian and Deflated Explicit VR Little Endian (PS3.5 §A.5):
  the pixel data decompressed, the dataset written in the target encoding;
- RLE Lossless, JPEG-LS Lossless, JPEG 2000 lossless and lossy: pydicom's encoders
  (``Dataset.compress`` with the pylibjpeg-rle, pyjpegls and pylibjpeg-openjpeg plugins);
- JPEG Baseline (Process 1): 8-bit unsigned data only, encoded with Pillow
  (``cloudpacs.dicom.jpeg_baseline``), colour as YBR_FULL_422 (PS3.5 §8.2.1).

Lossy targets mark the dataset (Lossy Image Compression "01", ratio and method, PS3.3
§C.7.6.1.1.5) and keep its SOP Instance UID: the client asked for a representation of the
stored instance, as a DIMSE transfer in a lossy syntax would deliver it.

``transcode`` re-encodes a whole Part-10 object; ``encode_dataset`` re-encodes a dataset in
place (for callers that changed its pixels, e.g. pixel cleaning); ``encode_frames`` encodes
chosen frames for WADO-RS frame retrieval. Frame media types are those of PS3.18
Table 8.7.3-3.
"""

from __future__ import annotations

import io

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

from cloudpacs.errors import NotAcceptable

UNCOMPRESSED = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian, "1.2.840.10008.1.2.2"})
NATIVE_TARGETS = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian)
COMPRESSED_TARGETS = (JPEGBaseline8Bit, JPEG2000Lossless, JPEG2000, JPEGLSLossless, RLELossless)
LOSSY = frozenset({JPEGBaseline8Bit, JPEG2000})
J2K_LOSSY_RATIO = 10.0
"""Compression ratio asked of the JPEG 2000 lossy encoder."""
JPEG_QUALITY = 90

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
    if transfer_syntax in UNCOMPRESSED or transfer_syntax == DeflatedExplicitVRLittleEndian:
        return True
    try:
        from pydicom.pixels.decoders.base import get_decoder

        return bool(get_decoder(UID(transfer_syntax)).is_available)
    except (NotImplementedError, ValueError, ImportError):
        return False


def _can_encode(transfer_syntax: str) -> bool:
    if transfer_syntax in NATIVE_TARGETS:
        return True
    if transfer_syntax == JPEGBaseline8Bit:
        from cloudpacs.dicom import jpeg_baseline

        return jpeg_baseline.available()
    try:
        from pydicom.pixels.encoders.base import get_encoder

        return bool(get_encoder(UID(transfer_syntax)).is_available)
    except (NotImplementedError, ValueError, ImportError):
        return False


def producible(stored: str) -> list[str]:
    """Transfer syntaxes an object stored in ``stored`` may be asked for, stored first.

    Whether a given object's pixels suit a target (JPEG Baseline needs 8-bit unsigned data)
    is known only once its header is read; ``transcode`` answers 406 then.
    """
    if not can_decode(stored):
        return [stored]
    targets = [t for t in (*NATIVE_TARGETS, *COMPRESSED_TARGETS) if _can_encode(t)]
    return [stored, *[t for t in targets if t != stored]]


def not_acceptable(wanted: str, offered: list[str], what: str = "this resource") -> NotAcceptable:
    return NotAcceptable(
        f"transfer syntax {wanted} cannot be produced for {what}; "
        f"available transfer syntaxes: {', '.join(offered)}"
    )


def transcode(data: bytes, stored: str, target: str) -> bytes:
    """The Part-10 object ``data`` (stored in ``stored``) re-encoded in ``target``."""
    if target == stored:
        return data
    if target not in producible(stored):
        raise not_acceptable(target, producible(stored))
    ds = pydicom.dcmread(io.BytesIO(data))
    reason = unsuitable(ds, target)
    if reason is not None:
        offered = [t for t in producible(stored) if unsuitable(ds, t) is None]
        raise NotAcceptable(f"{reason}; available transfer syntaxes: {', '.join(offered)}")
    encode_dataset(ds, target)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def unsuitable(ds: Dataset, target: str, *, has_pixels: bool | None = None) -> str | None:
    """Why the pixels of ``ds`` (a header is enough, with ``has_pixels``) cannot be encoded
    in ``target``, or None."""
    if target in NATIVE_TARGETS:
        return None
    if not (("PixelData" in ds) if has_pixels is None else has_pixels):
        return f"{target} encodes pixel data and this object has none"
    if target in LOSSY and str(ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR":
        return f"palette colour indices cannot be encoded lossily ({target})"
    if target == JPEGBaseline8Bit:
        from cloudpacs.dicom import jpeg_baseline

        return jpeg_baseline.unsuitable(ds)
    return None


def to_explicit_little(data: bytes, stored_syntax: str) -> bytes:
    """Re-encode a Part-10 object in Explicit VR Little Endian, decompressing pixel data."""
    return transcode(data, stored_syntax, ExplicitVRLittleEndian)


def _decompress(ds: Dataset) -> None:
    try:
        if ds.file_meta.TransferSyntaxUID.is_compressed and "PixelData" in ds:
            ds.decompress(generate_instance_uid=False)
    except Exception as exc:
        raise NotAcceptable(f"pixel data could not be decompressed: {exc}") from None


def encode_dataset(ds: Dataset, target: str) -> Dataset:
    """Re-encode ``ds`` (with file meta) in ``target``, in place; 406 when it cannot be."""
    _decompress(ds)
    if target in NATIVE_TARGETS or "PixelData" not in ds:
        if target not in NATIVE_TARGETS and "PixelData" not in ds:
            raise NotAcceptable(f"{target} is a pixel data encoding; this object has no pixels")
        ds.file_meta.TransferSyntaxUID = UID(target)
        return ds
    if target == JPEGBaseline8Bit:
        from cloudpacs.dicom import jpeg_baseline

        jpeg_baseline.compress(ds, JPEG_QUALITY)
    else:
        try:
            options = {"j2k_cr": [J2K_LOSSY_RATIO]} if target == JPEG2000 else {}
            ds.compress(UID(target), generate_instance_uid=False, **options)  # type: ignore[arg-type]
        except Exception as exc:
            raise NotAcceptable(f"pixel data cannot be encoded in {target}: {exc}") from None
    if target in LOSSY:
        _mark_lossy(ds, target)
    return ds


def _mark_lossy(ds: Dataset, target: str) -> None:
    """Lossy Image Compression attributes (PS3.3 §C.7.6.1.1.5)."""
    method = "ISO_10918_1" if target == JPEGBaseline8Bit else "ISO_15444_1"
    ds.LossyImageCompression = "01"
    methods = list(ds.get("LossyImageCompressionMethod") or [])
    ds.LossyImageCompressionMethod = [*methods, method]
    if target == JPEG2000:
        ratios = list(ds.get("LossyImageCompressionRatio") or [])
        ds.LossyImageCompressionRatio = [*ratios, J2K_LOSSY_RATIO]


def encode_frames(data: bytes, stored: str, numbers: list[int], target: str) -> list[bytes]:
    """Frames ``numbers`` (1-based) of a Part-10 object, each encoded in ``target``."""
    if target not in producible(stored) or target == DeflatedExplicitVRLittleEndian:
        offered = [t for t in producible(stored) if t != DeflatedExplicitVRLittleEndian]
        raise not_acceptable(target, offered, "these frames")
    if target in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
        return [decode_frame(data, n) for n in numbers]
    from pydicom.encaps import generate_frames

    ds = pydicom.dcmread(io.BytesIO(data))
    reason = unsuitable(ds, target)
    if reason is not None:
        offered = [t for t in producible(stored) if t in FRAME_MEDIA_TYPES or t in UNCOMPRESSED]
        usable = [t for t in offered if unsuitable(ds, t) is None]
        raise NotAcceptable(f"{reason}; available transfer syntaxes: {', '.join(usable)}")

    encode_dataset(ds, target)
    count = int(ds.get("NumberOfFrames") or 1)
    frames = list(generate_frames(ds.PixelData, number_of_frames=count))
    return [frames[n - 1] for n in numbers]


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
