"""The STOW-RS response dataset and status (PS3.18 §10.5.3).

- 200: every instance stored; 202: some stored, or stored with warnings; 409: none stored
  because of the request's content; 500: none stored because of a server failure.
- Each failed item carries FailureReason and, in a private element of creator
  ``cloudpacs``, the reason in words (clients that do not know it ignore it).
"""

from __future__ import annotations

from typing import Any

from cloudpacs.dicom.json_model import BULK_BASE
from cloudpacs.model import JsonDataset
from cloudpacs.services.ingest import CANNOT_UNDERSTAND, StoreOutcome

REFERENCED_SOP_CLASS = "00081150"
REFERENCED_SOP_INSTANCE = "00081155"
RETRIEVE_URL = "00081190"
WARNING_REASON = "00081196"
FAILURE_REASON = "00081197"
FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_SEQUENCE = "00081199"
OTHER_FAILURES_SEQUENCE = "0008119A"
PRIVATE_CREATOR = "00090010"
PRIVATE_REASON = "00091001"


def _uid(value: str | None) -> dict[str, Any]:
    return {"vr": "UI", "Value": [value]} if value else {"vr": "UI"}


def _reason(message: str) -> JsonDataset:
    if not message:
        return {}
    return {
        PRIVATE_CREATOR: {"vr": "LO", "Value": ["cloudpacs"]},
        PRIVATE_REASON: {"vr": "LT", "Value": [message[:1000]]},
    }


def _instance_url(o: StoreOutcome) -> str:
    return f"{BULK_BASE}/studies/{o.study_uid}/series/{o.series_uid}/instances/{o.sop_uid}"


def stow_response(outcomes: list[StoreOutcome]) -> tuple[int, JsonDataset]:
    """HTTP status and DICOM JSON response dataset for the outcomes of one request."""
    referenced: list[JsonDataset] = []
    failed: list[JsonDataset] = []
    other: list[JsonDataset] = []
    studies = {o.study_uid for o in outcomes if o.ok and o.study_uid}
    for o in outcomes:
        if o.ok:
            item: JsonDataset = {
                REFERENCED_SOP_CLASS: _uid(o.sop_class_uid),
                REFERENCED_SOP_INSTANCE: _uid(o.sop_uid),
                RETRIEVE_URL: {"vr": "UR", "Value": [_instance_url(o)]},
            }
            if o.warning_reason is not None:
                item[WARNING_REASON] = {"vr": "US", "Value": [o.warning_reason]}
                item.update(_reason(o.message))
            referenced.append(item)
        elif o.sop_uid is None:
            other.append(
                {
                    FAILURE_REASON: {"vr": "US", "Value": [o.failure_reason or CANNOT_UNDERSTAND]},
                    **_reason(o.message),
                }
            )
        else:
            failed.append(
                {
                    REFERENCED_SOP_CLASS: _uid(o.sop_class_uid),
                    REFERENCED_SOP_INSTANCE: _uid(o.sop_uid),
                    FAILURE_REASON: {"vr": "US", "Value": [o.failure_reason]},
                    **_reason(o.message),
                }
            )
    # Type 2 (PS3.18 Table I.1-1): present, and empty unless the stored instances are of one study.
    body: JsonDataset = {RETRIEVE_URL: {"vr": "UR"}}
    if len(studies) == 1:
        body[RETRIEVE_URL] = {"vr": "UR", "Value": [f"{BULK_BASE}/studies/{studies.pop()}"]}
    if referenced:
        body[REFERENCED_SOP_SEQUENCE] = {"vr": "SQ", "Value": referenced}
    if failed:
        body[FAILED_SOP_SEQUENCE] = {"vr": "SQ", "Value": failed}
    if other:
        body[OTHER_FAILURES_SEQUENCE] = {"vr": "SQ", "Value": other}
    return _status(outcomes), body


def _status(outcomes: list[StoreOutcome]) -> int:
    stored = [o for o in outcomes if o.ok]
    if not stored:
        return 409 if all(o.conflict or o.sop_uid is None for o in outcomes) else 500
    if len(stored) < len(outcomes) or any(o.warning_reason is not None for o in stored):
        return 202
    return 200
