"""What every reliability check asserts of an answer and of the archive after it.

- no answer is a 5xx; every refusal carries a reason: ``{"status", "error"}`` JSON, or a
  STOW-RS DICOM JSON response whose failed items carry FailureReason (PS3.18 §10.5.3);
- nothing is half-written: the objects a request added are exactly instances the response
  acknowledged, each with its index entry; index and objects agree (repair finds nothing).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from cloudpacs.ports import BlobStore, Index
from cloudpacs.services.repair import RepairService
from cloudpacs.services.stow_response import (
    FAILED_SOP_SEQUENCE,
    FAILURE_REASON,
    OTHER_FAILURES_SEQUENCE,
    REFERENCED_SOP_INSTANCE,
    REFERENCED_SOP_SEQUENCE,
)

JSON_TYPES = ("application/json", "application/dicom+json")


def check_answer(response: httpx.Response) -> Any:
    """No 5xx; a refusal says why in JSON or DICOM JSON. Returns the parsed JSON, if any."""
    status = response.status_code
    assert status < 500, (status, response.text[:500])
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if status < 400:
        return json.loads(response.content) if media in JSON_TYPES and response.content else None
    assert media in JSON_TYPES, (status, media, response.content[:200])
    body = json.loads(response.content)
    if isinstance(body, dict) and "error" in body:
        assert body["status"] == status
        assert isinstance(body["error"], str) and body["error"].strip()
    else:  # a STOW-RS response dataset: every failure has its reason
        items = _items(body, FAILED_SOP_SEQUENCE) + _items(body, OTHER_FAILURES_SEQUENCE)
        assert items, body
        assert all(item[FAILURE_REASON]["Value"] for item in items), body
    return body


def stored_keys(blobs: BlobStore) -> set[str]:
    return {key for key in blobs.list_keys("studies/") if key.endswith(".dcm")}


def acknowledged(body: Any) -> set[str]:
    """SOP Instance UIDs a STOW-RS response reports stored (ReferencedSOPSequence)."""
    if not isinstance(body, dict):
        return set()
    return {
        item[REFERENCED_SOP_INSTANCE]["Value"][0] for item in _items(body, REFERENCED_SOP_SEQUENCE)
    }


def check_nothing_half_written(
    index: Index, blobs: BlobStore, before: set[str], body: Any
) -> set[str]:
    """The objects added since ``before`` are acknowledged instances, each indexed."""
    after = stored_keys(blobs)
    added = after - before
    sops = acknowledged(body)
    for key in added:
        _, study, _, series, _, name = key.split("/")
        sop = name.removesuffix(".dcm")
        assert sop in sops, f"{key} was stored but the response did not acknowledge it"
        assert index.get_instance(study, series, sop) is not None, f"{key} is not indexed"
    return after


def check_consistent(index: Index, blobs: BlobStore) -> None:
    """Index and objects agree: a dry-run repair sweep has nothing to do."""
    report = RepairService(index, blobs).sweep(fix=False)
    assert (report.indexed, report.dangling, report.unreadable) == ([], [], []), report


def _items(body: Any, tag: str) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or tag not in body:
        return []
    value = body[tag].get("Value", [])
    return list(value) if isinstance(value, list) else []
