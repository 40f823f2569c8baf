"""De-identification job records of the embedded server: a folder per job.

``<root>/<job>/job.json`` holds the record and ``<root>/<job>/results/<sop>.json`` one result
per instance, each replaced atomically, the same shape as the job's items in DynamoDB
(``dynamo_jobs``): a repeated result overwrites the earlier one, so it never counts twice.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cloudpacs.services.deid_model import (
    InstanceResult,
    JobRecord,
    JobStatus,
    is_job_id,
)
from cloudpacs.uids import is_valid_uid


def _write_json(folder: Path, name: str, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, folder / name)


class FileJobLedger:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _folder(self, job_id: str) -> Path:
        if not is_job_id(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / job_id

    def create(self, record: JobRecord) -> None:
        folder = self._folder(record.job_id)
        (folder / "results").mkdir(parents=True)  # FileExistsError for a reused id
        _write_json(folder, "job.json", record.to_json())

    def get(self, job_id: str) -> JobStatus | None:
        folder = self._folder(job_id)
        try:
            record = JobRecord.from_json(json.loads((folder / "job.json").read_text("utf-8")))
        except FileNotFoundError:
            return None
        results = []
        for path in sorted((folder / "results").glob("*.json")):
            results.append(InstanceResult.from_json(json.loads(path.read_text("utf-8"))))
        return JobStatus(record, tuple(results))

    def record(self, job_id: str, results: Sequence[InstanceResult]) -> None:
        folder = self._folder(job_id) / "results"
        for result in results:
            if not is_valid_uid(result.sop_uid):
                raise ValueError(f"not a SOP Instance UID: {result.sop_uid!r}")
            _write_json(folder, f"{result.sop_uid}.json", result.to_json())

    def fail(self, job_id: str, error: str) -> None:
        with self._lock:
            found = self.get(job_id)
            if found is None:
                return
            _write_json(
                self._folder(job_id), "job.json", replace(found.record, error=error).to_json()
            )
