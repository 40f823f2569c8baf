"""``cloudpacs pull``: fetch a study (or some of its series) into a folder, one file per
instance at ``STUDY/SERIES/SOP.dcm``, as stored (``transfer-syntax=*``, PS3.18 §8.7.3.5).

Instances are fetched one by one, so an interrupted pull resumes: a file already on disk is
skipped, and each file appears under its name only when it is complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from cloudpacs.client.listing import (
    SERIES_INSTANCE_UID,
    SOP_INSTANCE_UID,
    ListingError,
    first,
    search,
)
from cloudpacs.client.outcome import Tally
from cloudpacs.client.progress import progress_bar
from cloudpacs.client.session import Session
from cloudpacs.multipart import MultipartParser, boundary_of
from cloudpacs.uids import check_uid

ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def _instances(session: Session, study: str, series: list[str]) -> list[tuple[str, str]]:
    keys = [{"StudyInstanceUID": study, "SeriesInstanceUID": s} for s in series] or [
        {"StudyInstanceUID": study}
    ]
    found = []
    for key in keys:
        for item in search(session, "instances", key):
            found.append((first(item, SERIES_INSTANCE_UID), first(item, SOP_INSTANCE_UID)))
    return found


def _fetch(session: Session, study: str, series: str, sop: str) -> bytes | str:
    """The instance's bytes, or why they could not be had."""
    url = f"studies/{study}/series/{series}/instances/{sop}"
    try:
        response = session.request("GET", url, headers={"Accept": ACCEPT})
    except httpx.TransportError as exc:
        return f"connection failed: {exc}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    content_type = response.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/related"):
        return response.content  # a server answering single-part application/dicom
    parser = MultipartParser(boundary_of(content_type))
    parser.feed(response.content)
    parts = parser.close()
    return parts[0].body if len(parts) == 1 else f"{len(parts)} parts for one instance"


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, target)


def pull(
    session: Session,
    study: str,
    destination: Path,
    *,
    series: list[str] | None = None,
    progress: bool = False,
) -> Tally:
    tally = Tally()
    for uid in (study, *(series or [])):
        check_uid(uid, "UID")
    try:
        instances = _instances(session, study, series or [])
    except ListingError as exc:
        tally.failed.append((study, str(exc)))
        return tally
    if not instances:
        tally.failed.append((study, "the server lists no instance of this study"))
    with progress_bar(len(instances), "pull", enabled=progress) as bar:
        for series_uid, sop in instances:
            target = destination / study / series_uid / f"{sop}.dcm"
            bar.update(1)
            if target.exists():
                tally.skipped += 1
                continue
            data = _fetch(session, study, series_uid, sop)
            if isinstance(data, str):
                tally.failed.append((f"{series_uid}/{sop}", data))
                continue
            _write(target, data)
            tally.done += 1
            tally.bytes += len(data)
    tally.retries = session.retries
    return tally
