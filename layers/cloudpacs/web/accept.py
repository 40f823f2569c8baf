"""Accept header negotiation for WADO-RS (PS3.18 §8.7.3, §8.7.4).

Each media range of an ``Accept`` header becomes an ``Acceptable`` (media type, the
``type`` parameter of ``multipart/related``, ``transfer-syntax``, quality). Endpoints ask
``choose`` for the first acceptable representation they can produce.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cloudpacs.errors import NotAcceptable

_SPLIT = re.compile(r',(?=(?:[^"]*"[^"]*")*[^"]*$)')
T = TypeVar("T")


@dataclass(frozen=True)
class Acceptable:
    media_type: str
    """``multipart/related`` or a single-part type such as ``application/dicom``."""
    part_type: str
    """The ``type`` parameter of multipart/related (or the media type itself when single)."""
    transfer_syntax: str | None
    quality: float

    @property
    def multipart(self) -> bool:
        return self.media_type == "multipart/related"

    def part_matches(self, media_type: str) -> bool:
        return self.part_type in ("*/*", media_type) or (
            self.part_type.endswith("/*") and media_type.startswith(self.part_type[:-1])
        )


def parse_accept(header: str | None) -> list[Acceptable]:
    """Media ranges in preference order; an absent or empty header accepts anything."""
    if not header or not header.strip():
        return [Acceptable("*/*", "*/*", None, 1.0)]
    ranges: list[Acceptable] = []
    for item in _SPLIT.split(header):
        pieces = [p.strip() for p in item.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            name, _, value = piece.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 1.0
        part = params.get("type", "application/dicom" if media == "multipart/related" else media)
        ranges.append(Acceptable(media, part.lower(), params.get("transfer-syntax"), quality))
    ranges.sort(key=lambda a: -a.quality)
    return [r for r in ranges if r.quality > 0]


def choose(header: str | None, offer: Callable[[Acceptable], T | None], what: str) -> T:
    """The first representation ``offer`` can produce for the client's media ranges."""
    for acceptable in parse_accept(header):
        chosen = offer(acceptable)
        if chosen is not None:
            return chosen
    raise NotAcceptable(f"none of the accepted media types ({header}) is available for {what}")
