"""The machine's limits, measured in process beside the figures of ``make bench``.

What one thread of this machine does with the benchmark's own objects, without HTTP, so
the distance from each figure to what the hardware allows is visible:

- ``write_mb_per_s``: writing the objects to new files in the data folder's file system;
- ``fsync_ms_per_object``: flushing one such object (file, then its folder);
- ``sha256_mb_per_s``: hashing them (what ingest records per object);
- ``header_read_per_s`` / ``pydicom_read_per_s``: index entries built per second by the
  ingest parser (``parse_instance``, header reader) and by pydicom's full read of the header.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from cloudpacs.dicom import parse


def _rate(amount: float, seconds: float) -> float:
    return round(amount / seconds, 1) if seconds > 0 else 0.0


def run_limits(objects: list[bytes], folder: Path | None = None) -> dict[str, Any]:
    sample = objects[:100]
    size = sum(len(o) for o in sample)
    with tempfile.TemporaryDirectory(prefix="cloudpacs-limits-", dir=folder) as tmp:
        start = time.perf_counter()
        paths = []
        for i, data in enumerate(sample):
            path = Path(tmp, f"{i}.dcm")
            with open(path, "wb") as fh:
                fh.write(data)
            paths.append(path)
        write = time.perf_counter() - start
        start = time.perf_counter()
        for path in paths:
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            folder_fd = os.open(tmp, os.O_RDONLY)
            os.fsync(folder_fd)
            os.close(folder_fd)
        flush = time.perf_counter() - start
    start = time.perf_counter()
    for data in sample:
        hashlib.sha256(data).digest()
    sha = time.perf_counter() - start
    start = time.perf_counter()
    for data in sample:
        parse.parse_instance(data)
    header = time.perf_counter() - start
    start = time.perf_counter()
    for data in sample:
        parse.parse_with_pydicom(data)
    full = time.perf_counter() - start
    return {
        "objects": len(sample),
        "write_mb_per_s": _rate(size / 1e6, write),
        "fsync_ms_per_object": round(flush / len(sample) * 1000, 3),
        "sha256_mb_per_s": _rate(size / 1e6, sha),
        "header_read_per_s": _rate(len(sample), header),
        "pydicom_read_per_s": _rate(len(sample), full),
    }
