"""Curves (50xx) and overlays (60xx): the repeating groups of Table E.1-1.

Basic Profile: Curve Data (50xx,xxxx) and Overlay Data (60xx,3000) are "X". Removing only
the data would leave Overlay Plane attributes that describe a missing bitmap, so the whole
repeating group goes.

Clean Graphics Option (PS3.15 E.3.3), "C": "any information encoded in graphics, text
annotations or overlays corresponding to the Attribute information specified to be removed
... shall also be removed". Bitmaps cannot be read for text here, so:

* an overlay plane of Overlay Type (60xx,0040) "R" (a region of interest: a shape, not a
  drawing) is kept, and its text attributes are cleaned like any "C" text;
* a graphics overlay ("G", or no type) may hold drawn text and is removed whole;
* retired curves are removed whole: nothing in them can be cleaned with confidence.

Note 1 of E.3.3 allows exactly this: it "may be more practical to simply remove all such
graphics, text annotations or overlays".
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from cloudpacs.deid.elements import TEXT_VRS, tags_of


def _groups(ds: Dataset, high_byte: int) -> set[int]:
    return {t.group for t in tags_of(ds) if t.group >> 8 == high_byte and t.group % 2 == 0}


def _drop_group(ds: Dataset, group: int) -> None:
    for tag in [t for t in tags_of(ds) if t.group == group]:
        del ds[tag]


def clean_repeating_groups(
    ds: Dataset, clean_graphics: bool, scrub: Callable[[str], str]
) -> set[int]:
    """Apply the curve/overlay rules to one dataset level; return the overlay groups kept."""
    for group in _groups(ds, 0x50):
        _drop_group(ds, group)
    kept: set[int] = set()
    for group in _groups(ds, 0x60):
        type_elem = ds.get((group << 16) | 0x0040)
        overlay_type = str(type_elem.value).strip().upper() if type_elem is not None else ""
        if clean_graphics and overlay_type == "R":
            kept.add(group)
            for tag in [t for t in tags_of(ds) if t.group == group]:
                elem = ds[tag]
                if elem.VR in TEXT_VRS and isinstance(elem.value, str):
                    elem.value = scrub(elem.value)
        else:
            _drop_group(ds, group)
    return kept
