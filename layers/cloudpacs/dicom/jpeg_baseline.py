"""JPEG Baseline (Process 1) encoding of native pixel data (PS3.5 §8.2.1, §A.4.1).

pydicom has no JPEG Baseline encoder; Pillow's libjpeg writes one codestream per frame,
which is encapsulated with a Basic Offset Table. Baseline carries 8-bit samples only, so only
8-bit unsigned data (Bits Allocated and Bits Stored 8, Pixel Representation 0) is encoded.
Colour frames are written as YCbCr with 4:2:2 subsampling and Photometric Interpretation
YBR_FULL_422, as PS3.5 §8.2.1 asks of lossy JPEG colour.
"""

from __future__ import annotations

import io

from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from cloudpacs.errors import NotAcceptable


def available() -> bool:
    try:
        from PIL import features

        return bool(features.check_codec("jpg"))
    except ImportError:
        return False


def unsuitable(ds: Dataset) -> str | None:
    """Why the pixels of ``ds`` cannot be JPEG Baseline, or None."""
    bits = (int(ds.get("BitsAllocated") or 0), int(ds.get("BitsStored") or 0))
    if bits != (8, 8) or int(ds.get("PixelRepresentation") or 0) != 0:
        return (
            f"{JPEGBaseline8Bit} (JPEG Baseline) carries 8-bit unsigned samples; "
            f"this object has Bits Allocated/Stored {bits[0]}/{bits[1]}"
        )
    samples = int(ds.get("SamplesPerPixel") or 1)
    if samples not in (1, 3):
        return f"JPEG Baseline cannot carry {samples} samples per pixel"
    return None


def _check(ds: Dataset) -> int:
    reason = unsuitable(ds)
    if reason is not None:
        raise NotAcceptable(reason)
    return int(ds.get("SamplesPerPixel") or 1)


def encode_frame(frame: object, samples: int, quality: int) -> bytes:
    """One frame (a uint8 array, rows x columns [x 3]) as a JPEG Baseline codestream."""
    from PIL import Image

    image = Image.fromarray(frame, mode="RGB" if samples == 3 else "L")  # type: ignore[arg-type]
    out = io.BytesIO()
    options = {"subsampling": 1} if samples == 3 else {}
    image.save(out, format="JPEG", quality=quality, optimize=False, **options)
    return out.getvalue()


def compress(ds: Dataset, quality: int) -> None:
    """Replace the native Pixel Data of ``ds`` with JPEG Baseline frames, in place."""
    import numpy as np

    samples = _check(ds)
    arr = ds.pixel_array
    count = int(ds.get("NumberOfFrames") or 1)
    frames = arr if count > 1 else arr[np.newaxis, ...]
    ds.PixelData = encapsulate(
        [encode_frame(np.ascontiguousarray(f, dtype=np.uint8), samples, quality) for f in frames]
    )
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    if samples == 3:
        ds.PhotometricInterpretation = "YBR_FULL_422"
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
