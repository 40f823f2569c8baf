"""Upload records of the embedded server: one JSON file per upload, replaced atomically.

A lock makes ``save``'s "unless already final" check and the write one step, as the
conditional write of the DynamoDB ledger is.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from cloudpacs.services.uploads_model import UploadRecord, is_upload_id


class FileUploadLedger:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _path(self, upload_id: str) -> Path:
        if not is_upload_id(upload_id):
            raise ValueError(f"not an upload id: {upload_id!r}")
        return self.root / f"{upload_id}.json"

    def _write(self, record: UploadRecord) -> None:
        path = self._path(record.upload_id)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record.to_json(), fh)
        os.replace(tmp, path)

    def create(self, record: UploadRecord) -> None:
        with self._lock:
            if self._path(record.upload_id).exists():
                raise FileExistsError(record.upload_id)
            self._write(record)

    def get(self, upload_id: str) -> UploadRecord | None:
        try:
            text = self._path(upload_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return UploadRecord.from_json(json.loads(text))

    def save(self, record: UploadRecord) -> bool:
        with self._lock:
            current = self.get(record.upload_id)
            if current is not None and current.state.final:
                return False
            self._write(record)
            return True
