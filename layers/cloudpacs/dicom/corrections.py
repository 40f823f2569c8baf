"""Corrections of patient- and study-level attributes: what may change, checked, and applied.

A correction is DICOM JSON (PS3.18 §F.2) naming attributes of the allow list below, each with
its VR and at most one value; an attribute with no ``Value`` becomes empty (they are all Type 2
or 3). Everything else is refused with the reason: UIDs (a correction keeps every UID, so
references from other objects and systems stay valid), attributes outside the list (series and
instance attributes belong to the modality's object), a wrong VR, an invalid value.

``apply`` rewrites a stored Part-10 object with the new values, in its own transfer syntax,
all other elements as they were. A value outside the object's character set is written as
UTF-8 (``ISO_IR 192``) when the object used the default repertoire, and refused otherwise.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydicom
from pydicom import config
from pydicom.charset import convert_encodings, encode_string
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.valuerep import validate_value

from cloudpacs.errors import BadRequest


@dataclass(frozen=True)
class Correctable:
    keyword: str
    tag: str
    """Eight hex digits, as DICOM JSON names it."""
    vr: str
    level: str
    """``patient`` or ``study``: the merge of patients changes the patient ones."""


def _entry(keyword: str, level: str) -> Correctable:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return Correctable(keyword, f"{tag:08X}", dictionary_VR(tag), level)


CORRECTABLE: Mapping[str, Correctable] = {
    c.tag: c
    for c in (
        _entry("PatientName", "patient"),
        _entry("PatientID", "patient"),
        _entry("IssuerOfPatientID", "patient"),
        _entry("PatientBirthDate", "patient"),
        _entry("PatientSex", "patient"),
        _entry("PatientAge", "study"),
        _entry("AccessionNumber", "study"),
        _entry("StudyDescription", "study"),
        _entry("ReferringPhysicianName", "study"),
        _entry("StudyID", "study"),
        _entry("StudyDate", "study"),
        _entry("StudyTime", "study"),
    )
}
"""Tag -> the attribute a correction may change (Patient and General Study modules)."""
PATIENT_SEXES = frozenset({"", "M", "F", "O"})


@dataclass(frozen=True)
class Change:
    attribute: Correctable
    value: str
    """The new value as DICOM encodes it (PN components joined with ``=``); "" for empty."""


def _tag_of(key: str) -> str:
    if len(key) == 8 and all(c in "0123456789abcdefABCDEF" for c in key):
        return key.upper()
    tag = tag_for_keyword(key)
    if tag is None:
        raise BadRequest(f"{key!r} is neither a DICOM tag (8 hex digits) nor a keyword")
    return f"{tag:08X}"


def _name(tag: str) -> str:
    return keyword_for_tag(int(tag, 16)) or tag


def _text(attribute: Correctable, element: Mapping[str, Any]) -> str:
    values = element.get("Value", [])
    if not isinstance(values, list) or len(values) > 1:
        raise BadRequest(f"{attribute.keyword}: give one value (a list of at most one item)")
    if not values or values[0] is None:
        return ""
    value = values[0]
    if attribute.vr == "PN":
        if not isinstance(value, dict) or not set(value) <= {
            "Alphabetic",
            "Ideographic",
            "Phonetic",
        }:
            raise BadRequest(
                f"{attribute.keyword}: a PN value is an object of Alphabetic, Ideographic "
                "and Phonetic strings"
            )
        groups = [value.get(k, "") for k in ("Alphabetic", "Ideographic", "Phonetic")]
        if not all(isinstance(g, str) for g in groups):
            raise BadRequest(f"{attribute.keyword}: name components must be strings")
        return "=".join(groups).rstrip("=")
    if not isinstance(value, str):
        raise BadRequest(f"{attribute.keyword}: a {attribute.vr} value is a string")
    return value


def _check_value(attribute: Correctable, text: str) -> None:
    if "\\" in text:
        raise BadRequest(f"{attribute.keyword}: one value only (no backslash)")
    if attribute.keyword == "PatientSex" and text not in PATIENT_SEXES:
        raise BadRequest("PatientSex: one of M, F, O or empty")
    if not text:
        return
    try:
        validate_value(attribute.vr, text, config.RAISE)
    except (ValueError, KeyError) as exc:
        raise BadRequest(f"{attribute.keyword}: {exc}") from None


def parse_changes(body: object) -> list[Change]:
    """The changes a DICOM JSON correction asks for; 400 naming the first thing wrong."""
    if not isinstance(body, dict) or not body:
        raise BadRequest(
            "the body is one DICOM JSON object naming the attributes to change, e.g. "
            '{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]}}'
        )
    changes: dict[str, Change] = {}
    for key, element in body.items():
        tag = _tag_of(str(key))
        attribute = CORRECTABLE.get(tag)
        if attribute is None:
            vr = _vr_of(tag)
            if vr == "UI":
                raise BadRequest(f"{_name(tag)} is a UID: corrections keep every UID")
            allowed = ", ".join(c.keyword for c in CORRECTABLE.values())
            raise BadRequest(f"{_name(tag)} cannot be corrected here; these can: {allowed}")
        if not isinstance(element, dict):
            raise BadRequest(f"{attribute.keyword}: each attribute is a DICOM JSON object")
        if element.get("vr") != attribute.vr:
            raise BadRequest(
                f"{attribute.keyword}: the VR is {attribute.vr}, not {element.get('vr')!r}"
            )
        text = _text(attribute, element)
        _check_value(attribute, text)
        if tag in changes:
            raise BadRequest(f"{attribute.keyword} is named twice")
        changes[tag] = Change(attribute, text)
    return list(changes.values())


def _vr_of(tag: str) -> str | None:
    try:
        return str(dictionary_VR(int(tag, 16)))
    except KeyError:
        return None


# -- on a stored object ------------------------------------------------------------------
def current_values(data: bytes, changes: list[Change]) -> dict[str, str]:
    """What the object holds now for each changed attribute (keyword -> value, "" if absent)."""
    ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    return {c.attribute.keyword: str(ds.get(c.attribute.keyword, "") or "") for c in changes}


def _encodable(ds: pydicom.Dataset, text: str) -> bool:
    charset = ds.get("SpecificCharacterSet")
    if not charset:
        return text.isascii()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            encode_string(text, convert_encodings(charset))
        except (UserWarning, UnicodeError, LookupError, ValueError):
            return False
    return True


def apply(data: bytes, changes: list[Change]) -> bytes:
    """``data`` (a Part-10 object) with ``changes`` applied, in its own transfer syntax."""
    ds = pydicom.dcmread(io.BytesIO(data))
    for change in changes:
        if not _encodable(ds, change.value):
            if ds.get("SpecificCharacterSet") in (None, "", "ISO_IR 6"):
                ds.SpecificCharacterSet = "ISO_IR 192"
            else:
                raise BadRequest(
                    f"{change.attribute.keyword}: the value cannot be written in the "
                    f"object's character set {ds.SpecificCharacterSet}"
                )
        setattr(ds, change.attribute.keyword, change.value)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()
