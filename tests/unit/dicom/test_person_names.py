"""dicom.names.normalize_name: the search form of PatientName (PS3.5 §6.2 PN)."""

from __future__ import annotations

import pytest

from cloudpacs.dicom.names import normalize_name


@pytest.mark.parametrize(
    "pn, normalized",
    [
        ("Doe^Jane", "doe jane"),
        ("DOE^JANE^^DR", "doe jane dr"),
        ("Müller-Lüdenscheidt^Hans", "muller ludenscheidt hans"),
        ("Ångström^Zoë", "angstrom zoe"),
        ("Straße^FIona", "strasse fiona"),
        ("O'Brien^Mary", "o brien mary"),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "yamada tarou"),
        ("=山田^太郎", ""),
        ("  van  der Berg ^ Jan ", "van der berg jan"),
        ("Smith2^John", "smith2 john"),
        ("^^^", ""),
        ("", ""),
    ],
)
def test_normalize_name(pn: str, normalized: str) -> None:
    assert normalize_name(pn) == normalized


@pytest.mark.parametrize(
    "name, typed",
    [
        ("Müller^Hans", "Mül"),
        ("Müller^Hans", "mul"),
        ("Doe^Jane", "DOE^"),
        ("Doe^Jane", "Doe^J"),
        ("O'Brien^Mary", "O'"),
        ("Straße^Anna", "STRASS"),
    ],
)
def test_a_typed_prefix_normalizes_to_a_prefix_of_the_name(name: str, typed: str) -> None:
    """Prefix search relies on this: the index returns a superset, never misses a match."""
    assert normalize_name(name).startswith(normalize_name(typed))
