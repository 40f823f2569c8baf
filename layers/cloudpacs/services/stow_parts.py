"""The parts of a STOW-RS body (PS3.18 §10.5.1): the DICOM parts are stored, the others fail.

One function for every way a multipart/related body arrives: ``POST /studies`` and a body
uploaded through the inbox (``services.uploads``).
"""

from __future__ import annotations

from cloudpacs.multipart import Part
from cloudpacs.services.ingest import CANNOT_UNDERSTAND, IngestService, StoreOutcome, StoreStatus

DICOM = "application/dicom"


def refused_part(part: Part) -> StoreOutcome | None:
    """The failure of a part that is not ``application/dicom``; None for a DICOM part."""
    media = part.content_type.split(";", 1)[0].strip().lower()
    if media in ("", DICOM):
        return None
    return StoreOutcome(
        StoreStatus.FAILED,
        failure_reason=CANNOT_UNDERSTAND,
        message=f"part of type {media!r} is not {DICOM}",
    )


def store_parts(ingest: IngestService, parts: list[Part], study: str | None) -> list[StoreOutcome]:
    """Store the DICOM parts concurrently; other parts fail alone. Outcomes in part order."""
    outcomes: list[StoreOutcome | None] = [None] * len(parts)
    dicom_parts: list[int] = []
    for i, part in enumerate(parts):
        outcomes[i] = refused_part(part)
        if outcomes[i] is None:
            dicom_parts.append(i)
    stored = ingest.store_many([parts[i].body for i in dicom_parts], expected_study=study)
    for i, outcome in zip(dicom_parts, stored, strict=True):
        outcomes[i] = outcome
    return [o for o in outcomes if o is not None]
