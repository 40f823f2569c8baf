"""Profiles, presets and the CID 7050 codes they declare."""

from __future__ import annotations

import dataclasses

import pytest

from cloudpacs.deid import Profile

EXPECTED_CODES = {
    "basic": ["113100"],
    "hipaa_safe_harbor": ["113100", "113108"],
    "retain_longitudinal": ["113100", "113108", "113107", "113105"],
    "retain_device_identity": ["113100", "113111", "113109"],
    "gdpr": ["113100", "113105", "113104", "113103"],
}


@pytest.mark.parametrize(("name", "codes"), EXPECTED_CODES.items())
def test_presets_declare_cid_7050_codes(name: str, codes: list[str]) -> None:
    """PS3.16 CID 7050: 113100 Basic Application Confidentiality Profile, 113103 Clean
    Graphics, 113104 Clean Structured Content, 113105 Clean Descriptors, 113106/113107
    Retain Longitudinal Temporal Information Full/Modified Dates, 113108 Retain Patient
    Characteristics, 113109 Retain Device Identity, 113110 Retain UIDs, 113111 Retain Safe
    Private, 113112 Retain Institution Identity."""
    profile = Profile.preset(name)
    assert profile.name == name
    assert [code.value for code in profile.method_codes()] == codes
    assert all(code.scheme_designator == "DCM" for code in profile.method_codes())


def test_every_option_has_its_code() -> None:
    everything = Profile.from_options(
        {
            "retain_safe_private": True,
            "retain_uids": True,
            "retain_device_identity": True,
            "retain_institution_identity": True,
            "retain_patient_characteristics": True,
            "retain_longitudinal_full_dates": True,
            "clean_descriptors": True,
            "clean_structured_content": True,
            "clean_graphics": True,
        }
    )
    codes = {c.value for c in everything.method_codes()}
    assert codes == {"113100", *(str(n) for n in range(113103, 113113) if n != 113107)}


def test_bad_profiles_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown de-identification preset"):
        Profile.preset("anonymous")
    with pytest.raises(ValueError, match="unknown de-identification options"):
        Profile.from_options({"retain_names": True})
    with pytest.raises(dataclasses.FrozenInstanceError):
        Profile().retain_uids = True  # type: ignore[misc]
