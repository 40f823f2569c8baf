"""Burned-in annotation: which instances are quarantined instead of de-identified.

The Basic Profile "does not address information burned-in to the pixels" (PS3.15 E.2, note)
and pixel data is never changed here, so an instance whose pixels may show identifying text
is refused with :class:`~cloudpacs.deid.errors.QuarantinedInstance`. The rules, in order:

``overlay_in_pixel_data``
    An Overlay Plane (60xx) without Overlay Data (60xx,3000): the retired encoding that keeps
    the overlay bitmap in unused high bits of Pixel Data. Removing the overlay attributes
    would not remove the bitmap, and pixel data is not changed. This rule applies whatever
    Burned In Annotation says, since that attribute describes the image, not the overlay.
``burned_in_annotation``
    Burned In Annotation (0028,0301) is "YES".
``risky_kind_unflagged``
    Burned In Annotation is absent or not "NO" and the instance is of a kind that routinely
    carries burned-in text: Secondary Capture (screen captures, scanned documents), Ultrasound
    (PS3.15 E.3.1 note 1: "Ultrasound images routinely do"), Visible Light photography,
    endoscopy, microscopy and video (photographs of people and labels), or Modality ``OT``,
    ``US``, ``XC``, ``ES``, ``GM`` or ``SM`` on any other SOP Class.

An instance that has been checked, or cleaned by a Clean Pixel Data process, carries Burned
In Annotation "NO" and passes the last two rules. With the Clean Pixel Data Option on
(:mod:`.pixel_clean`), an instance that a pixel cleaning rule matches is cleaned instead of
checked against the last two rules. Encapsulated documents (PDF, CDA, ...) are
not quarantined: Encapsulated Document (0042,0011) is "D" in Table E.1-1, so the document is
replaced.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from cloudpacs.deid.elements import tags_of
from cloudpacs.deid.errors import QuarantinedInstance

_RISKY_SOP_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture and the multi-frame SC family
    "1.2.840.10008.5.1.4.1.1.6.",  # Ultrasound Image, Enhanced US Volume
    "1.2.840.10008.5.1.4.1.1.3.",  # Ultrasound Multi-frame Image
    "1.2.840.10008.5.1.4.1.1.77.",  # Visible Light: endoscopy, microscopy, photo, video
)
_RISKY_SOP_EXACT = ("1.2.840.10008.5.1.4.1.1.6", "1.2.840.10008.5.1.4.1.1.3")
_RISKY_MODALITIES = frozenset({"OT", "US", "XC", "ES", "GM", "SM"})


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return str(value).strip().upper() if value is not None else ""


def _overlay_in_pixel_data(ds: Dataset) -> int | None:
    groups = {t.group for t in tags_of(ds) if t.group >> 8 == 0x60 and t.group % 2 == 0}
    for group in sorted(groups):
        if (group << 16) | 0x0010 in ds and (group << 16) | 0x3000 not in ds:
            return group
    return None


def check_pixels(ds: Dataset) -> None:
    """Raise :class:`QuarantinedInstance` if the pixels may carry burned-in identification."""
    check_overlays(ds)
    check_annotation(ds)


def check_overlays(ds: Dataset) -> None:
    """The ``overlay_in_pixel_data`` rule alone (cleaning rectangles does not remove it)."""
    group = _overlay_in_pixel_data(ds)
    if group is not None and "PixelData" in ds:
        raise QuarantinedInstance(
            f"overlay group {group:04X} has no Overlay Data: its bitmap is in the Pixel Data",
            rule="overlay_in_pixel_data",
        )


def check_annotation(ds: Dataset) -> None:
    """The ``burned_in_annotation`` and ``risky_kind_unflagged`` rules."""
    flag = _text(ds, "BurnedInAnnotation")
    if flag == "YES":
        raise QuarantinedInstance(
            "Burned In Annotation is YES: the pixel data shows identifying text",
            rule="burned_in_annotation",
        )
    if flag == "NO":
        return
    sop_class = str(ds.get("SOPClassUID", "")).strip()
    risky = (
        sop_class in _RISKY_SOP_EXACT
        or sop_class.startswith(_RISKY_SOP_PREFIXES)
        or _text(ds, "Modality") in _RISKY_MODALITIES
    )
    if risky:
        raise QuarantinedInstance(
            f"SOP Class {sop_class or '(none)'} / Modality {_text(ds, 'Modality') or '(none)'} "
            "routinely carries burned-in text and Burned In Annotation is not NO",
            rule="risky_kind_unflagged",
        )
