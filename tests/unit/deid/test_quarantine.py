"""Burned-in annotation quarantine (rules in cloudpacs.deid.quarantine).

PS3.15 E.2, note: "Unless the Clean Pixel Data Option is also specified, this profile does
not address information burned-in to the pixels"; E.1.1 item 2 note 5: "The de-identifier
should ensure that no identifying information that is burned in to the image pixel data"
survives. Pixel data is never changed here, so such instances are refused.
"""

from __future__ import annotations

from io import BytesIO

import pytest

from cloudpacs.deid import (
    DeidentificationError,
    Profile,
    QuarantinedInstance,
    deidentify,
    deidentify_bytes,
)
from cloudpacs.errors import CloudPacsError

from .builders import ct_dataset
from .conftest import SECRET

US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def _bytes(**overrides: str) -> bytes:
    ds = ct_dataset(**overrides)
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


@pytest.mark.parametrize("preset", list(Profile.PRESETS))
def test_burned_in_annotation_yes_is_quarantined_under_every_preset(preset: str) -> None:
    with pytest.raises(QuarantinedInstance) as info:
        deidentify(ct_dataset(BurnedInAnnotation="YES"), Profile.preset(preset), SECRET)
    assert info.value.rule == "burned_in_annotation"
    assert isinstance(info.value, DeidentificationError | CloudPacsError)
    assert info.value.status == 422


@pytest.mark.parametrize(
    ("sop_class", "modality"),
    [(US_IMAGE, "US"), (SECONDARY_CAPTURE, "OT"), ("1.2.840.10008.5.1.4.1.1.77.1.4", "XC")],
)
def test_risky_kinds_without_a_no_flag_are_quarantined(sop_class: str, modality: str) -> None:
    with pytest.raises(QuarantinedInstance) as info:
        deidentify(ct_dataset(SOPClassUID=sop_class, Modality=modality), Profile(), SECRET)
    assert info.value.rule == "risky_kind_unflagged"


def test_a_reviewed_risky_instance_passes() -> None:
    ds = ct_dataset(SOPClassUID=US_IMAGE, Modality="US", BurnedInAnnotation="NO")
    assert deidentify(ds, Profile(), SECRET).BurnedInAnnotation == "NO"


def test_ct_without_a_flag_passes() -> None:
    ds = ct_dataset()
    assert "BurnedInAnnotation" not in ds
    deidentify(ds, Profile(), SECRET)


def test_part10_entry_point_quarantines_too() -> None:
    with pytest.raises(QuarantinedInstance):
        deidentify_bytes(_bytes(BurnedInAnnotation="YES"), Profile(), SECRET)
    assert deidentify_bytes(_bytes(BurnedInAnnotation="NO"), Profile(), SECRET)[128:132] == b"DICM"


def test_an_overlay_kept_in_the_pixel_data_is_quarantined() -> None:
    """Retired encoding: Overlay Rows present, Overlay Data absent, bitmap in Pixel Data."""
    ds = ct_dataset(BurnedInAnnotation="NO")
    ds.add_new(0x60000010, "US", 128)
    ds.add_new(0x60000011, "US", 128)
    ds.add_new(0x60000102, "US", 15)
    with pytest.raises(QuarantinedInstance) as info:
        deidentify(ds, Profile.preset("gdpr"), SECRET)
    assert info.value.rule == "overlay_in_pixel_data"
