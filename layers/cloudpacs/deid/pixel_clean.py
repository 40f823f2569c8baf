"""The Clean Pixel Data Option (PS3.15 E.3.1): blank the rectangles a rule names, every frame.

With the Option on (``Profile.clean_pixel_data``), an instance with Pixel Data that a rule of
:mod:`.pixel_rules` matches is decoded, the rule's regions are set to zero in every frame and
sample, and the pixels are written back (:mod:`.pixel_codec`). The copy then carries Burned In
Annotation "NO", the Option's code 113101 in De-identification Method Code Sequence, and, in
Derivation Description, the rule and the transfer syntax it was written in.

Refusals (:class:`~cloudpacs.deid.errors.QuarantinedInstance`), each with its ``rule`` code:

``no_cleaning_rule``
    the instance would be quarantined (:mod:`.quarantine`) and no cleaning rule matches it;
``pixels_not_cleanable``
    a rule matches but the Pixel Data cannot be decoded here;
``text_after_cleaning``
    the optional text detector still finds text in the cleaned pixels.

``overlay_in_pixel_data`` applies with or without the Option: blanking rectangles does not
remove an overlay kept in the high bits of every pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pydicom.dataset import Dataset

from cloudpacs.deid.errors import QuarantinedInstance
from cloudpacs.deid.pixel_codec import PixelsNotDecodable, decode, encode, transfer_syntax
from cloudpacs.deid.pixel_rules import PixelRule, PixelRules, load_rules
from cloudpacs.deid.profile import Profile
from cloudpacs.deid.quarantine import check_annotation, check_overlays

if TYPE_CHECKING:
    import numpy as np


class TextDetector(Protocol):
    def finds_text(self, frames: np.ndarray, bits_stored: int) -> bool:
        """Whether any frame of (frames, rows, columns, samples) still shows text."""


@dataclass(frozen=True)
class PixelCleaning:
    """What the Option needs besides the profile: the deployment's rules and detector."""

    rules: PixelRules
    detector: TextDetector | None = None

    @classmethod
    def default(cls) -> PixelCleaning:
        return cls(load_rules())


@dataclass(frozen=True)
class CleanedPixels:
    rule: str
    source_syntax: str
    written_syntax: str

    def description(self) -> str:
        """The sentence for Derivation Description (0008,2111)."""
        text = f"Clean Pixel Data: regions of pixel cleaning rule {self.rule} blanked"
        if self.written_syntax != self.source_syntax:
            text += (
                f"; re-encoded in {self.written_syntax} (Explicit VR Little Endian) from "
                f"{self.source_syntax}, which cannot be encoded losslessly here"
            )
        return text


def _describe(ds: Dataset) -> str:
    parts = [
        f"{name} {str(ds.get(keyword, '') or '').strip() or '(none)'}"
        for name, keyword in (
            ("Modality", "Modality"),
            ("Manufacturer", "Manufacturer"),
            ("Model", "ManufacturerModelName"),
            ("SOP Class", "SOPClassUID"),
        )
    ]
    return ", ".join(parts) + f", {ds.get('Columns', '?')}x{ds.get('Rows', '?')}"


def plan(ds: Dataset, profile: Profile, cleaning: PixelCleaning | None) -> PixelRule | None:
    """The rule to clean ``ds`` with, None to leave its pixels; raise when it is refused."""
    check_overlays(ds)
    if not profile.clean_pixel_data:
        check_annotation(ds)
        return None
    rules = cleaning.rules if cleaning is not None else load_rules()
    rule = rules.match(ds) if "PixelData" in ds else None
    if rule is not None:
        return rule
    try:
        check_annotation(ds)
    except QuarantinedInstance as exc:
        raise QuarantinedInstance(
            f"{exc.reason}; no pixel cleaning rule matches it ({_describe(ds)})",
            rule="no_cleaning_rule",
        ) from None
    return None


def blank(frames: np.ndarray, rule: PixelRule) -> None:
    """Zero every region of ``rule`` in every frame and sample (clipped to the image)."""
    for region in rule.regions:
        frames[:, region.y : region.y + region.height, region.x : region.x + region.width, :] = 0


def clean(ds: Dataset, rule: PixelRule, detector: TextDetector | None) -> CleanedPixels:
    """Blank ``rule``'s regions in ``ds``'s Pixel Data and write it back (see module doc)."""
    source = transfer_syntax(ds)
    try:
        frames = decode(ds)
    except PixelsNotDecodable as exc:
        raise QuarantinedInstance(
            f"pixel cleaning rule {rule.name} matches, but the pixels cannot be decoded: {exc}",
            rule="pixels_not_cleanable",
            pixel_rule=rule.name,
        ) from None
    blank(frames, rule)
    if detector is not None and detector.finds_text(frames, int(ds.BitsStored)):
        raise QuarantinedInstance(
            f"text is still detected in the pixels after cleaning rule {rule.name}",
            rule="text_after_cleaning",
            pixel_rule=rule.name,
        )
    written = encode(ds, frames, source)
    ds.BurnedInAnnotation = "NO"
    return CleanedPixels(rule.name, str(source), str(written))
