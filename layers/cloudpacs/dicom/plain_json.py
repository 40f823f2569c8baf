"""DICOM JSON (PS3.18 F.2) as plain JSON keyed by attribute keyword, for the REST API.

``{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]}}`` becomes
``{"PatientName": "Doe^Jane"}``: one value is a scalar, several a list, none ``null``;
person names give their alphabetic form and sequences nest as lists of objects.
"""

from __future__ import annotations

from typing import Any

from pydicom.datadict import keyword_for_tag

from cloudpacs.model import JsonDataset


def _value(vr: str | None, value: Any) -> Any:
    if vr == "PN" and isinstance(value, dict):
        return value.get("Alphabetic")
    if vr == "SQ" and isinstance(value, dict):
        return plain_json(value)
    return value


def plain_json(dataset: JsonDataset) -> dict[str, Any]:
    """The attributes of ``dataset`` by keyword (the tag where the dictionary has none)."""
    plain: dict[str, Any] = {}
    for tag, element in dataset.items():
        name = keyword_for_tag(int(tag, 16)) or tag
        vr = element.get("vr")
        values = [_value(vr, v) for v in element.get("Value", [])]
        plain[name] = (
            None if not values else values[0] if len(values) == 1 and vr != "SQ" else values
        )
    return plain
