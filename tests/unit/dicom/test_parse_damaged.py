"""Damage that pydicom only notices when a value is first read is still a clean refusal."""

from __future__ import annotations

import pytest

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.errors import InvalidDicom
from tests.support.synthetic import ct_instance

SOP_CLASS_UID = b"\x08\x00\x16\x00UI"


def test_an_unknown_vr_in_a_required_element_is_invalid_dicom() -> None:
    data = ct_instance("1.2.3.4", "1.2.3.4.5", 1, rows=8, columns=8)
    assert data.count(SOP_CLASS_UID) == 1
    damaged = data.replace(SOP_CLASS_UID, b"\x08\x00\x16\x00\x55\xb3")
    with pytest.raises(InvalidDicom, match="unreadable DICOM object"):
        parse_instance(damaged)
