"""Query parameters of rendered and thumbnail resources (PS3.18 §8.3.5.1).

- ``window=center,width,function``: a VOI window applied in place of the object's own
  (``function`` is the VOI LUT Function, PS3.3 §C.11.2.1.3: ``linear`` (default),
  ``linear-exact`` or ``sigmoid``, in any case, ``_`` accepted for ``-``); the width is at
  least 1 for ``linear`` and above 0 otherwise (PS3.3 §C.11.2.1.2).
- ``viewport=vw,vh[,sx,sy,sw,sh]``: the image (or the source region at ``sx,sy`` of
  ``sw`` x ``sh`` pixels, negative sizes flipping it) scaled to fit ``vw`` x ``vh``,
  keeping its aspect ratio; either of ``vw``, ``vh`` may be left empty. Thumbnails take
  ``vw,vh`` only.
- ``quality=1..100``: the JPEG quality (ignored for lossless media types).
- ``annotation=patient,technique``: text burned into the image.

A value out of range or malformed is 400 (PS3.18 §8.3.5.1: "shall return a 400").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from cloudpacs.errors import BadRequest

MAX_VIEWPORT = 8192
FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
ANNOTATIONS = ("patient", "technique")


@dataclass(frozen=True)
class Window:
    center: float
    width: float
    function: str = "LINEAR"


@dataclass(frozen=True)
class Viewport:
    width: int | None
    height: int | None
    region: tuple[int, int, int | None, int | None] | None = None
    """(sx, sy, sw, sh) of the source image; None sizes run to the image's edge."""


@dataclass(frozen=True)
class RenderParams:
    window: Window | None = None
    viewport: Viewport | None = None
    quality: int | None = None
    annotation: tuple[str, ...] = ()


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{what} {text[:20]!r} is not a decimal number") from None
    if not math.isfinite(value):
        raise BadRequest(f"{what} must be a finite number")
    return value


def _integer(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise BadRequest(f"{what} {text[:20]!r} is not an integer") from None


def parse_window(text: str) -> Window:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (2, 3):
        raise BadRequest("window is center,width[,function]")
    center = _number(parts[0], "window center")
    width = _number(parts[1], "window width")
    function = (parts[2] if len(parts) == 3 and parts[2] else "linear").upper().replace("-", "_")
    if function not in FUNCTIONS:
        raise BadRequest(f"window function {parts[2][:20]!r} is not linear, linear-exact, sigmoid")
    if function == "LINEAR" and width < 1:
        raise BadRequest("window width must be at least 1 for the linear function")
    if width <= 0:
        raise BadRequest("window width must be greater than 0")
    return Window(center, width, function)


def _size(text: str, what: str) -> int | None:
    if not text.strip():
        return None
    value = _integer(text, what)
    if not 1 <= value <= MAX_VIEWPORT:
        raise BadRequest(f"{what} must be between 1 and {MAX_VIEWPORT}, not {value}")
    return value


def parse_viewport(text: str, *, region_allowed: bool = True) -> Viewport:
    parts = text.split(",")
    if len(parts) not in ((2, 6) if region_allowed else (2,)):
        form = "vw,vh[,sx,sy,sw,sh]" if region_allowed else "vw,vh"
        raise BadRequest(f"viewport is {form}")
    width, height = _size(parts[0], "viewport width"), _size(parts[1], "viewport height")
    if width is None and height is None:
        raise BadRequest("viewport names neither a width nor a height")
    if len(parts) == 2:
        return Viewport(width, height)
    sx, sy = (_integer(p, "viewport source origin") if p.strip() else 0 for p in parts[2:4])
    sw, sh = (_integer(p, "viewport source size") if p.strip() else None for p in parts[4:6])
    if sx < 0 or sy < 0 or sw == 0 or sh == 0:
        raise BadRequest("viewport source region must start at or after 0 and not be empty")
    return Viewport(width, height, (sx, sy, sw, sh))


def parse_quality(text: str) -> int:
    value = _integer(text, "quality")
    if not 1 <= value <= 100:
        raise BadRequest(f"quality must be between 1 and 100, not {value}")
    return value


def parse_annotation(text: str) -> tuple[str, ...]:
    words = tuple(w.strip().lower() for w in text.split(",") if w.strip())
    unknown = [w for w in words if w not in ANNOTATIONS]
    if unknown or not words:
        raise BadRequest(f"annotation takes patient and/or technique, not {text[:40]!r}")
    return words


def parse_params(query: Mapping[str, str], *, thumbnail: bool = False) -> RenderParams:
    """The rendering parameters of a request's query; unknown names are ignored
    (PS3.18 §8.3.5.1 leaves them to the origin server)."""
    window = query.get("window")
    viewport = query.get("viewport")
    quality = query.get("quality")
    annotation = query.get("annotation")
    return RenderParams(
        window=parse_window(window) if window is not None and not thumbnail else None,
        viewport=(
            parse_viewport(viewport, region_allowed=not thumbnail) if viewport is not None else None
        ),
        quality=parse_quality(quality) if quality is not None else None,
        annotation=parse_annotation(annotation) if annotation and not thumbnail else (),
    )
