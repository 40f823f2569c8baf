"""Rendered media types written with Pillow (PS3.18 §8.7.4, Table 8.7.4-1).

``image/jpeg`` (the default, lossy: ``quality`` applies), ``image/png`` and ``image/gif``
(one frame, or an animated GIF of several). Annotations (PS3.18 §8.3.5.1.1) are burned in
after everything else, top left: ``patient`` (name and ID), ``technique`` (modality, frame,
window).
"""

from __future__ import annotations

import io
from typing import Any

from pydicom.dataset import Dataset

JPEG, PNG, GIF = "image/jpeg", "image/png", "image/gif"
MEDIA_TYPES = (JPEG, PNG, GIF)
DEFAULT_QUALITY = 90
GIF_FRAME_MS = 100


def to_image(display: Any) -> Any:
    """A PIL image of 8-bit display values (rows x columns [x 3])."""
    from PIL import Image

    return Image.fromarray(display, mode="RGB" if display.ndim == 3 else "L")


def annotate(image: Any, ds: Dataset, words: tuple[str, ...], technique: str) -> Any:
    from PIL import ImageDraw

    lines = []
    if "patient" in words:
        lines.append(f"{ds.get('PatientName', '') or ''}  {ds.get('PatientID', '') or ''}".strip())
    if "technique" in words:
        lines.append(technique)
    if not lines:
        return image
    image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    y = 2
    for line in lines:
        draw.text((3, y + 1), line, fill=(0, 0, 0))
        draw.text((2, y), line, fill=(255, 255, 0))
        y += 12
    return image


def encode(images: list[Any], media_type: str, quality: int | None = None) -> bytes:
    """One image (or, for GIF, an animation of several) in ``media_type``."""
    out = io.BytesIO()
    first = images[0]
    if media_type == JPEG:
        first.save(out, format="JPEG", quality=quality or DEFAULT_QUALITY)
    elif media_type == PNG:
        first.save(out, format="PNG")
    else:
        frames = [im if im.mode in ("L", "P") else im.quantize(256) for im in images]
        extra: dict[str, Any] = {}
        if len(frames) > 1:
            extra = {"save_all": True, "append_images": frames[1:], "duration": GIF_FRAME_MS}
            extra["loop"] = 0
        frames[0].save(out, format="GIF", **extra)
    return out.getvalue()
