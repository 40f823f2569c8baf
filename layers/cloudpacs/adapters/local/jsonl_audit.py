"""Local audit sink: an append-only JSON-lines file (one ``AuditEvent`` per line).

Each event is written with a single ``write`` on a descriptor opened with ``O_APPEND``, so
lines from several threads or processes never interleave and nothing already written is
rewritten; a lock keeps the threads of one process in order. With ``fsync`` (the default) the
line is on disk before ``emit`` returns. The file is created ``0600``.

``read`` serves the local ``GET /audit`` endpoint: it scans the file and returns the newest
matching events. A torn last line (a crash mid-write) is skipped, not fatal.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from cloudpacs.security.audit import AuditEvent, AuditFilter, newest_matching

log = logging.getLogger(__name__)


class JsonlAuditSink:
    def __init__(self, path: Path | str, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def emit(self, event: AuditEvent) -> None:
        line = (event.to_json() + "\n").encode("utf-8")
        with self._lock:
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(f"audit log {self.path}: short write ({written} of {len(line)})")
            if self.fsync:
                os.fsync(self._fd)

    def read(self, filters: AuditFilter | None = None, limit: int = 100) -> list[AuditEvent]:
        return newest_matching(self._events(), filters, limit)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _events(self) -> Iterator[AuditEvent]:
        try:
            handle = self.path.open("r", encoding="utf-8")
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.endswith("\n"):
                    break  # a line still being written, or torn by a crash
                try:
                    yield AuditEvent.from_dict(json.loads(line))
                except (ValueError, TypeError, KeyError):
                    log.warning("audit log %s: unreadable line %d skipped", self.path, number)
