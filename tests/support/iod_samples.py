"""Objects for the IOD check: a synthetic image made complete for its IOD (every Type 1
attribute of its mandatory modules given a value, every Type 2 one present), then stripped."""

from __future__ import annotations

import copy

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from cloudpacs.validation.iod_check import requirements

_VALUES = {
    "DA": "20260101", "TM": "120000", "DT": "20260101120000", "UI": None, "DS": "1", "IS": "1",
    "US": 1, "SS": 1, "UL": 1, "SL": 1, "FL": 1.0, "FD": 1.0, "PN": "Doe^J", "AS": "042Y",
}  # fmt: skip


def complete(ds: Dataset) -> Dataset:
    done = copy.deepcopy(ds)
    iod = requirements()["iods"][requirements()["sopClasses"][str(ds.SOPClassUID)]]
    for tag in iod["type1"]:
        number = int(tag, 16)
        if number in done and done[number].value not in (None, "", []):
            continue
        vr = dictionary_VR(number)
        value = _VALUES.get(vr, "X") if vr != "UI" else generate_uid()
        done.add_new(number, vr, [Dataset()] if vr == "SQ" else value)
    for tag in iod["type2"]:
        number = int(tag, 16)
        if number not in done:
            vr = dictionary_VR(number)
            done.add_new(number, vr, [] if vr == "SQ" else None)
    return done


def complete_ct(ds: Dataset) -> Dataset:
    return complete(ds)


def strip(ds: Dataset, *keywords: str) -> Dataset:
    stripped = copy.deepcopy(ds)
    for keyword in keywords:
        tag = tag_for_keyword(keyword)
        assert tag is not None and tag in stripped, keyword
        del stripped[tag]
    return stripped
