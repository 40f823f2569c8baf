"""The grayscale and colour rendering pipelines for rendered resources (PS3.4 §N.2).

Grayscale (MONOCHROME1/2): stored values -> Modality LUT (Rescale Slope/Intercept or the
Modality LUT Sequence, PS3.3 §C.11.1) -> VOI: the request's window, else the object's first
Window Center/Width with its VOI LUT Function, else its VOI LUT Sequence, else a window
spanning the frame's own range (PS3.3 §C.11.2) -> 8-bit display values, inverted for
MONOCHROME1 (whose minimum is white, PS3.3 §C.7.6.3.1.2).
Colour: RGB and YBR (decoded to RGB by pydicom) scaled to 8 bits; PALETTE COLOR through its
Palette Color Lookup Tables (PS3.3 §C.7.6.3.1.5). A request window applies to grayscale only.
The viewport's source region is cut and the result scaled to fit the viewport
(PS3.18 §8.3.5.1.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from cloudpacs.dicom.render_params import Viewport, Window
from cloudpacs.errors import BadRequest, NotAcceptable

if TYPE_CHECKING:
    import numpy as np

GRAYSCALE = ("MONOCHROME1", "MONOCHROME2")


def window_values(values: np.ndarray, window: Window) -> np.ndarray:
    """VOI window functions of PS3.3 §C.11.2.1.2 (LINEAR), §C.11.2.1.3.2 (LINEAR_EXACT) and
    §C.11.2.1.3.1 (SIGMOID), onto 0..255."""
    import numpy as np

    c, w = window.center, window.width
    x = values.astype(np.float64)
    if window.function == "SIGMOID":
        y = 255.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    elif window.function == "LINEAR_EXACT":
        y = np.clip(((x - c) / w + 0.5) * 255.0, 0.0, 255.0)
    else:
        low, high = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
        y = ((x - (c - 0.5)) / max(w - 1, 1e-9) + 0.5) * 255.0
        y = np.where(x <= low, 0.0, np.where(x > high, 255.0, y))
    return np.asarray(np.clip(np.rint(y), 0, 255).astype(np.uint8))


def _object_window(ds: Dataset) -> Window | None:
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None:
        return None
    first = [v[0] if isinstance(v, MultiValue) else v for v in (center, width)]
    try:
        c, w = float(first[0]), float(first[1])
    except (TypeError, ValueError):
        return None
    function = str(ds.get("VOILUTFunction") or "LINEAR").upper()
    if function not in ("LINEAR", "LINEAR_EXACT", "SIGMOID"):
        function = "LINEAR"
    if w <= 0 or (function == "LINEAR" and w < 1):
        return None
    return Window(c, w, function)


def _voi(values: np.ndarray, ds: Dataset, window: Window | None) -> np.ndarray:
    import numpy as np

    chosen = window or _object_window(ds)
    if chosen is not None:
        return window_values(values, chosen)
    if "VOILUTSequence" in ds:
        from pydicom.pixels.processing import apply_voi

        out = apply_voi(values, ds, index=0).astype(np.float64)
        top = float(out.max()) or 1.0
        return np.asarray(np.rint(out / top * 255.0).astype(np.uint8))
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return window_values(values, Window((low + high) / 2, high - low, "LINEAR_EXACT"))


def display_values(ds: Dataset, arr: np.ndarray, window: Window | None = None) -> np.ndarray:
    """One decoded frame of ``ds`` as 8-bit display values: rows x columns [x 3]."""
    import numpy as np
    from pydicom.pixels.processing import apply_color_lut, apply_modality_lut

    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    samples = int(ds.get("SamplesPerPixel") or 1)
    if samples == 1 and photometric in GRAYSCALE:
        values = apply_modality_lut(arr, ds)
        out = _voi(values, ds, window)
        return np.asarray(255 - out) if photometric == "MONOCHROME1" else out
    if samples == 1 and photometric == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        return np.asarray((rgb >> 8).astype(np.uint8) if bits > 8 else rgb.astype(np.uint8))
    if samples == 3 and arr.ndim == 3:
        stored = int(ds.get("BitsStored") or 8)
        if stored > 8:
            return np.asarray((arr.astype(np.float64) * 255.0 / (2**stored - 1)).round()).astype(
                np.uint8
            )
        return arr.astype(np.uint8)
    raise NotAcceptable(
        f"cannot render Photometric Interpretation {photometric or '(none)'} "
        f"with {samples} sample(s) per pixel"
    )


def apply_viewport(image: Any, viewport: Viewport | None) -> Any:
    """Cut the source region of a PIL image and scale it to fit the viewport."""
    from PIL import Image, ImageOps

    if viewport is None:
        return image
    if viewport.region is not None:
        sx, sy, sw, sh = viewport.region
        cols, rows = image.size
        sw = sw if sw is not None else cols - sx
        sh = sh if sh is not None else rows - sy
        left, right = sorted((sx, sx + sw))
        top, bottom = sorted((sy, sy + sh))
        if left < 0 or top < 0 or right > cols or bottom > rows or right <= left or top >= bottom:
            raise BadRequest(f"viewport source region lies outside the {cols}x{rows} image")
        image = image.crop((left, top, right, bottom))
        if sw < 0:
            image = ImageOps.mirror(image)
        if sh < 0:
            image = ImageOps.flip(image)
    cols, rows = image.size
    wanted = (viewport.width, cols), (viewport.height, rows)
    scale = min(size / have for size, have in wanted if size)
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    if size == image.size:
        return image
    method = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BILINEAR
    return image.resize(size, method)
