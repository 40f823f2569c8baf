"""DICOM JSON (PS3.18 Annex F) from pydicom's JSON model.

Large binary values become ``BulkDataURI`` references instead of inline base64. URIs are
written relative to a placeholder (``BULK_BASE``) so that cached metadata does not depend on
the host name a client used; ``bind_base`` substitutes the real DICOMweb root when serving.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import orjson
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from cloudpacs.model import JsonDataset

log = logging.getLogger(__name__)

BULK_BASE = "cloudpacs-base:"
BULK_DATA_THRESHOLD = 1024
"""Binary values larger than this many bytes are referenced, not inlined."""


def element_json(elem: DataElement) -> dict[str, Any] | None:
    """One element as DICOM JSON, or None when pydicom cannot express its value."""
    try:
        return elem.to_json_dict(bulk_data_element_handler=None, bulk_data_threshold=1 << 30)
    except Exception as exc:  # invalid values in the wild (bad IS/DS, wrong VR)
        log.debug("element %s not representable in DICOM JSON: %s", elem.tag, exc)
        return None


def select(ds: Dataset, keywords: Iterable[str]) -> JsonDataset:
    """The named attributes of ``ds`` (those present) as a DICOM JSON object."""
    out: JsonDataset = {}
    for keyword in keywords:
        if keyword not in ds:
            continue
        elem = ds[keyword]
        as_json = element_json(elem)
        if as_json is not None:
            out[f"{elem.tag:08X}"] = as_json
    return out


def _tag_paths(ds: Dataset, prefix: str = "") -> dict[int, str]:
    """Map id(element) -> tag path ("00540016/0/00181072") for every element in ``ds``."""
    paths: dict[int, str] = {}
    for elem in ds:
        path = f"{prefix}{elem.tag:08X}"
        paths[id(elem)] = path
        if elem.VR == "SQ" and isinstance(elem.value, Sequence):
            for index, item in enumerate(elem.value):
                paths.update(_tag_paths(item, f"{path}/{index}/"))
    return paths


def instance_metadata(ds: Dataset, instance_path: str) -> JsonDataset:
    """Full DICOM JSON of an instance header with bulk data references.

    ``instance_path`` is ``studies/{s}/series/{se}/instances/{sop}``; bulk data URIs are
    ``BULK_BASE + "/" + instance_path + "/bulkdata/" + tag path``.
    """
    paths = _tag_paths(ds)

    def bulk(elem: DataElement) -> str:
        return f"{BULK_BASE}/{instance_path}/bulkdata/{paths.get(id(elem), f'{elem.tag:08X}')}"

    result: JsonDataset = ds.to_json_dict(
        bulk_data_threshold=BULK_DATA_THRESHOLD,
        bulk_data_element_handler=bulk,
        suppress_invalid_tags=True,
    )
    return result


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: QIDO and metadata responses are mostly serialization)."""
    return orjson.dumps(obj)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def bind_base(payload: bytes, base_url: str) -> bytes:
    """Replace the bulk data placeholder with the DICOMweb root the client used."""
    return payload.replace(b'"' + BULK_BASE.encode(), b'"' + base_url.encode())
