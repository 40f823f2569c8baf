"""``cloudpacs find``: a QIDO-RS search (PS3.18 §10.6) printed as a table or as JSON lines."""

from __future__ import annotations

import json
from typing import Any

from pydicom.datadict import keyword_for_tag

from cloudpacs.client.listing import search
from cloudpacs.client.session import Session
from cloudpacs.dicom.plain_json import plain_json

COLUMNS = {
    "studies": ("StudyInstanceUID", "StudyDate", "PatientID", "PatientName", "AccessionNumber",
                "ModalitiesInStudy", "NumberOfStudyRelatedInstances"),
    "series": ("SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription",
               "NumberOfSeriesRelatedInstances"),
    "instances": ("SOPInstanceUID", "SOPClassUID", "InstanceNumber"),
}  # fmt: skip


def find(session: Session, level: str, filters: dict[str, str], study: str | None) -> list[Any]:
    path = f"studies/{study}/{level}" if study and level != "studies" else level
    return [plain_json(item) for item in search(session, path, filters)]


def render(matches: list[dict[str, Any]], level: str, *, as_json: bool) -> str:
    if as_json:
        return "\n".join(json.dumps(match, sort_keys=True) for match in matches)
    columns = COLUMNS[level]
    rows = [[str(m.get(c) if m.get(c) is not None else "") for c in columns] for m in matches]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def keyword_filter(text: str) -> tuple[str, str]:
    """``Key=Value`` (a keyword or a tag such as ``00100020``) as a QIDO-RS parameter."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"{text!r}: expected Key=Value")
    if len(key) == 8 and all(ch in "0123456789abcdefABCDEF" for ch in key):
        key = keyword_for_tag(int(key, 16)) or key
    return key, value
