"""Real instances for the core tests: pydicom's sample files, re-identified and edited.

Each call reads a file pydicom ships, gives it new UIDs (or the ones asked for) and sets the
attributes a test is about, then writes it as a Part-10 object in its own transfer syntax.
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileDataset
from pydicom.uid import generate_uid


@cache
def sample_bytes(name: str) -> bytes:
    """The bytes of one of pydicom's files, as shipped."""
    path = get_testdata_file(name)
    if path is None:
        raise FileNotFoundError(name)
    with open(str(path), "rb") as fh:
        return fh.read()


def sample(name: str = "CT_small.dcm") -> FileDataset:
    """A fresh, independent copy of one of pydicom's sample files."""
    return pydicom.dcmread(io.BytesIO(sample_bytes(name)))


def to_bytes(ds: Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def instance(
    study: str | None = None,
    series: str | None = None,
    sop: str | None = None,
    *,
    source: str = "CT_small.dcm",
    **attributes: Any,
) -> bytes:
    """A Part-10 object made from ``source`` with these UIDs and keyword attributes.

    An attribute given as ``None`` is deleted; a list of dicts is a sequence of items.
    """
    ds = sample(source)
    ds.StudyInstanceUID = study or generate_uid()
    ds.SeriesInstanceUID = series or generate_uid()
    ds.SOPInstanceUID = sop or generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    for keyword, value in attributes.items():
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, _items(value))
    return to_bytes(ds)


def _items(value: Any) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        items = []
        for attributes in value:
            item = Dataset()
            for keyword, item_value in attributes.items():
                setattr(item, keyword, _items(item_value))
            items.append(item)
        return items
    return value
