"""UID validation (PS3.5 §9.1): digits and dots, no empty component, at most 64 characters.

Every UID is checked here before it becomes part of an index key or an object key, so a
path such as ``../`` or ``1.2/3`` can never reach storage.
"""

from __future__ import annotations

import re

from cloudpacs.errors import BadRequest

_UID = re.compile(r"[0-9]+(\.[0-9]+)*")
MAX_UID_LENGTH = 64


def is_valid_uid(value: str) -> bool:
    return len(value) <= MAX_UID_LENGTH and _UID.fullmatch(value) is not None


def check_uid(value: str, what: str = "UID") -> str:
    """Return ``value`` if it is a well-formed UID, else raise ``BadRequest`` naming ``what``."""
    if not is_valid_uid(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise BadRequest(f"invalid {what}: {shown!r} (digits and dots, at most 64 characters)")
    return value


def check_scope(study: str, series: str | None = None, sop: str | None = None) -> None:
    """Check the UIDs of a study, series or instance resource path."""
    check_uid(study, "StudyInstanceUID")
    if series is not None:
        check_uid(series, "SeriesInstanceUID")
    if sop is not None:
        check_uid(sop, "SOPInstanceUID")
