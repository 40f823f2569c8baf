"""The IOD check of one stored object against ``data/iod_requirements.json`` (see
``validation.generate``): Type 1 attributes of mandatory modules present with a value, Type 2
attributes present (PS3.5 §7.4). An object of a SOP class the table does not pair with an
IOD is not checked.

What a finding does (``validation`` setting): ``warn`` stores the object and answers warning
0xB007 (Data Set does not match SOP Class, PS3.4 B.2.3) naming what is missing; ``reject``
refuses it with failure 0xA900 (Data Set does not match SOP Class).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pydicom
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from cloudpacs.settings import ValidationMode

MISMATCH_WARNING = 0xB007
MISMATCH_FAILURE = 0xA900


@dataclass(frozen=True)
class Finding:
    missing: tuple[str, ...] = ()
    """Type 1 or 2 attributes absent (keywords)."""
    empty: tuple[str, ...] = ()
    """Type 1 attributes present without a value."""

    def __bool__(self) -> bool:
        return bool(self.missing or self.empty)

    def message(self, iod: str) -> str:
        parts = []
        if self.missing:
            parts.append("missing " + ", ".join(self.missing))
        if self.empty:
            parts.append("empty Type 1 " + ", ".join(self.empty))
        return f"not a complete {iod} (PS3.3): " + "; ".join(parts)


@dataclass(frozen=True)
class Verdict:
    refuse: bool
    reason: int
    message: str


@cache
def requirements() -> dict[str, Any]:
    text = resources.files("cloudpacs.validation").joinpath("data/iod_requirements.json")
    table: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return table


def _name(tag: str) -> str:
    return keyword_for_tag(int(tag, 16)) or tag


def _has_value(ds: Dataset, tag: int) -> bool:
    value = ds[tag].value
    return value is not None and value != "" and value != []


def check_dataset(ds: Dataset) -> tuple[str, Finding] | None:
    """The object's IOD and what it lacks; None where its SOP class is not in the table."""
    table = requirements()
    ciod = table["sopClasses"].get(str(ds.get("SOPClassUID", "")))
    if ciod is None:
        return None
    iod = table["iods"][ciod]
    missing, empty = [], []
    for tag in iod["type1"]:
        number = int(tag, 16)
        if number not in ds:
            missing.append(_name(tag))
        elif not _has_value(ds, number):
            empty.append(_name(tag))
    missing += [_name(tag) for tag in iod["type2"] if int(tag, 16) not in ds]
    return ciod, Finding(tuple(missing), tuple(empty))


def iod_check(mode: ValidationMode) -> Callable[[bytes], Verdict | None] | None:
    """The ingest hook for ``mode`` (None for ``off``): a verdict for an incomplete object."""
    if mode == "off":
        return None

    def check(data: bytes) -> Verdict | None:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, defer_size=1024)
        result = check_dataset(ds)
        if result is None or not result[1]:
            return None
        ciod, finding = result
        refuse = mode == "reject"
        return Verdict(
            refuse, MISMATCH_FAILURE if refuse else MISMATCH_WARNING, finding.message(ciod)
        )

    return check
