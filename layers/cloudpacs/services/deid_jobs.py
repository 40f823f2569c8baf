"""De-identification jobs, the API side: ``POST .../studies/{study}/deidentify`` and
``GET .../jobs/{job}`` (docs/deidentification.md).

``submit`` checks the request (a known preset and known options, an archived study), records
the job with the number of instances it covers, and queues its work as tasks of at most
``chunk_size`` instances each (one SQS message each in AWS), so that a study of thousands of
instances is spread over many worker invocations and the request itself stays short. The
worker (``deid_worker``) records one result per instance; ``status`` derives the job's state
from the record and the results, so a repeated delivery of a task can never count twice.

Nothing here reads the pseudonym secret: only the worker holds it.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cloudpacs.errors import BadRequest, CloudPacsError, NotFound
from cloudpacs.model import InstanceRecord
from cloudpacs.ports import Index
from cloudpacs.services.deid_model import (
    DeidTask,
    JobLedger,
    JobRecord,
    JobStatus,
    ProfileSpec,
    TaskQueue,
    is_job_id,
)
from cloudpacs.services.ingest import StoreStatus
from cloudpacs.uids import check_uid

log = logging.getLogger(__name__)
CHUNK_SIZE = 25
"""Instances per task: a few seconds of worker time each."""


class JobNotQueued(CloudPacsError):
    """The job was recorded but its tasks could not be handed to the worker."""

    status = 503


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class DeidJobs:
    def __init__(
        self,
        index: Index,
        ledger: JobLedger,
        queue: TaskQueue,
        *,
        record_days: int,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.index = index
        self.ledger = ledger
        self.queue = queue
        self.record_seconds = record_days * 86400
        self.chunk_size = chunk_size

    def submit(self, study_uid: str, profile: ProfileSpec, *, owner: str | None) -> JobRecord:
        """Record a job for every instance of ``study_uid`` and queue its tasks."""
        check_uid(study_uid, "StudyInstanceUID")
        try:
            built = profile.build()
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        partition = self.index.study_partition(study_uid)
        if partition is None or not partition.instances:
            raise NotFound(f"study {study_uid} is not in the archive")
        instances = sorted((i.series_uid, i.sop_uid) for i in partition.instances)
        record = JobRecord(
            job_id=secrets.token_hex(16),
            study_uid=study_uid,
            profile=profile,
            profile_name=built.name,
            total=len(instances),
            created_at=_now(),
            expires_at=int(time.time()) + self.record_seconds,
            owner=owner,
        )
        self.ledger.create(record)
        tasks = [
            DeidTask(study_uid, tuple(instances[i : i + self.chunk_size]), profile, record.job_id)
            for i in range(0, len(instances), self.chunk_size)
        ]
        try:
            self.queue.send(tasks)
        except Exception:
            log.exception("queueing the tasks of job %s failed", record.job_id)
            error = "the job's tasks could not be queued; submit it again"
            self.ledger.fail(record.job_id, error)
            raise JobNotQueued(error) from None
        return record

    def status(self, job_id: str) -> JobStatus:
        if not is_job_id(job_id):
            raise BadRequest(f"invalid job id {job_id[:40]!r} (32 hexadecimal digits)")
        found = self.ledger.get(job_id)
        if found is None:
            raise NotFound(f"no de-identification job {job_id}")
        return found


def auto_deidentify(
    queue: TaskQueue, profile: ProfileSpec
) -> Callable[[InstanceRecord, StoreStatus], None]:
    """Ingest hook: queue each stored instance for de-identification into the research store.

    The instance is stored when the hook runs; a failure to queue it is logged with the UIDs
    needed to queue it again, and not raised into the store that succeeded.
    """

    def hook(record: InstanceRecord, status: StoreStatus) -> None:
        task = DeidTask(record.study_uid, ((record.series_uid, record.sop_uid),), profile)
        try:
            queue.send([task])
        except Exception:
            log.exception(
                "queueing automatic de-identification failed for study %s series %s instance %s",
                record.study_uid,
                record.series_uid,
                record.sop_uid,
            )

    return hook
