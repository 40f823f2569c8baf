"""The DICOM files a push sends: found under folders, identified by their header alone."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError


@dataclass(frozen=True)
class LocalInstance:
    path: Path
    size: int
    study: str
    series: str
    sop: str


def candidate_paths(targets: Iterable[Path]) -> Iterator[Path]:
    """Files named on the command line, and every file under the folders named (sorted)."""
    for target in targets:
        if target.is_dir():
            yield from sorted(p for p in target.rglob("*") if p.is_file())
        else:
            yield target


def read_instance(path: Path) -> LocalInstance | str:
    """The instance in ``path``, or why it is not one (not Part-10, no UIDs)."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_UID_TAGS)
    except (InvalidDicomError, OSError, EOFError, ValueError) as exc:
        return f"not a DICOM Part-10 file ({exc.__class__.__name__})"
    if path.name == "DICOMDIR" or "DirectoryRecordSequence" in ds:
        return "a DICOMDIR (media directory), not an instance"
    try:
        study, series, sop = (str(ds[k].value) for k in _UIDS)
    except KeyError as exc:
        return f"no {exc.args[0]}"
    return LocalInstance(path, path.stat().st_size, study, series, sop)


_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
_UID_TAGS = [*_UIDS, "DirectoryRecordSequence"]
