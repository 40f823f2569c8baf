"""What the server already holds, by QIDO-RS (PS3.18 §10.6), page by page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudpacs.client.session import Session

PAGE = 500
SOP_INSTANCE_UID = "00080018"
SERIES_INSTANCE_UID = "0020000E"


class ListingError(RuntimeError):
    """The server would not list what it holds."""


def search(session: Session, path: str, params: dict[str, str] | None = None) -> Iterator[Any]:
    """Every match of a QIDO-RS search, following ``offset`` until a short page."""
    offset = 0
    while True:
        query = {**(params or {}), "limit": str(PAGE), "offset": str(offset)}
        response = session.request(
            "GET", path, params=query, headers={"Accept": "application/dicom+json"}
        )
        if response.status_code != 200:
            raise ListingError(f"{path}: HTTP {response.status_code} {response.text[:200]}")
        page = response.json() if response.content else []
        yield from page
        if len(page) < PAGE:
            return
        offset += len(page)


def first(item: Any, tag: str) -> str:
    values = (item.get(tag) or {}).get("Value") or [""]
    return str(values[0])


def stored_instances(session: Session, study: str) -> dict[str, str]:
    """SOP Instance UID -> Series Instance UID of every instance of ``study`` on the server
    (a search of all instances with the study as a key: an unknown study is no match, where
    ``/studies/{study}/instances`` may answer 404)."""
    return {
        first(item, SOP_INSTANCE_UID): first(item, SERIES_INSTANCE_UID)
        for item in search(session, "instances", {"StudyInstanceUID": study})
    }
