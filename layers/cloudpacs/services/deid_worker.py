"""De-identification jobs, the worker side: one task of the queue at a time.

For each instance of a task: read the stored object from the archive, de-identify it
(``cloudpacs.deid``, keyed by the deployment's secret) and store the copy in the research
store through the ordinary ingest service, whose duplicate policy there is ``replace``. The
copy is a pure function of the object, the profile and the secret, so storing it again is an
idempotent success (``already-stored``): re-running a job, or a repeated delivery of a task,
writes nothing new. Instances fail alone: each gets its own result.

What happens to an instance that does not make it:

- quarantined (the pixels may show identifying text; with the Clean Pixel Data Option, no
  pixel cleaning rule matches, or text is still detected) or not de-identifiable (not
  Part-10, cannot be encoded): a final result, reported in the job and, for a quarantine, as
  an audit event (``deid_audit``);
- gone from the archive (deleted after the job started): a final result, ``not_found``;
- a server-side fault (storage or index unavailable): the task fails after the other instances
  are done, so the queue delivers it again; on the last delivery (``final``) the fault is
  recorded as the instance's result instead, so the job still completes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from cloudpacs.deid import DeidentificationError, NotPart10, QuarantinedInstance, deidentify_file
from cloudpacs.deid.pixel_clean import PixelCleaning
from cloudpacs.deid.profile import Profile
from cloudpacs.keys import instance_key
from cloudpacs.ports import BlobNotFound, BlobStore, Index
from cloudpacs.security.audit import AuditSink
from cloudpacs.services.deid_audit import worker_events
from cloudpacs.services.deid_model import (
    DeidTask,
    InstanceResult,
    JobLedger,
    KeySource,
    Outcome,
)
from cloudpacs.services.ingest import IngestService

log = logging.getLogger(__name__)

ResultHook = Callable[[InstanceResult], None]


class TransientDeidFailure(RuntimeError):
    """Some instances of a task hit a server-side fault; deliver the task again."""


@dataclass(frozen=True)
class _Fault:
    series_uid: str
    sop_uid: str
    what: str


def _failed(series: str, sop: str, code: str, reason: str) -> InstanceResult:
    return InstanceResult(series, sop, Outcome.FAILED, code=code, reason=reason)


class DeidWorker:
    def __init__(
        self,
        index: Index,
        blobs: BlobStore,
        research: IngestService,
        ledger: JobLedger,
        key: KeySource,
        *,
        on_result: list[ResultHook] | None = None,
        pixels: PixelCleaning | None = None,
        audit: AuditSink | None = None,
    ) -> None:
        self.index = index
        self.blobs = blobs
        self.research = research
        self.ledger = ledger
        self.key = key
        self.on_result = on_result if on_result is not None else []
        """Called with each instance's final result (metrics)."""
        self.pixels = pixels
        """Rules and text detector of the Clean Pixel Data Option (default rules if None)."""
        self.audit = audit

    def process(self, task: DeidTask, *, final: bool = True) -> list[InstanceResult]:
        """De-identify the task's instances; record their results in its job, if any.

        Raises ``TransientDeidFailure`` when a server-side fault stopped an instance and this
        is not the ``final`` delivery; every other instance's result is recorded first.
        """
        profile = task.profile.build()  # checked when the task was made; a poison otherwise
        secret = self.key()
        results: list[InstanceResult] = []
        faults: list[_Fault] = []
        for series, sop in task.instances:
            outcome = self._one(task.study, series, sop, profile, secret)
            if isinstance(outcome, _Fault):
                faults.append(outcome)
            else:
                results.append(outcome)
        if final:
            results += [_failed(f.series_uid, f.sop_uid, "internal_error", f.what) for f in faults]
        if task.job is not None and results:
            self.ledger.record(task.job, results)
        self._audit(task, results)
        for result in results:
            for hook in self.on_result:
                hook(result)
            self._log(task, result)
        if faults and not final:
            raise TransientDeidFailure(
                f"{len(faults)} instance(s) of study {task.study} hit a server-side fault"
            )
        return results

    def _one(
        self, study: str, series: str, sop: str, profile: Profile, secret: bytes
    ) -> InstanceResult | _Fault:
        try:
            record = self.index.get_instance(study, series, sop)
            if record is None:
                return _failed(series, sop, "not_found", "the instance is not in the archive")
            data = self.blobs.get(instance_key(study, series, sop))
        except BlobNotFound:
            return _failed(series, sop, "missing_object", "the stored object is missing")
        except Exception:
            log.exception("reading study %s instance %s failed", study, sop)
            return _Fault(series, sop, "the stored object could not be read")
        try:
            copy = deidentify_file(data, profile, secret, self.pixels)
        except QuarantinedInstance as exc:
            return InstanceResult(
                series,
                sop,
                Outcome.QUARANTINED,
                code=exc.rule,
                reason=exc.reason,
                pixel_rule=exc.pixel_rule,
            )
        except NotPart10 as exc:
            return _failed(series, sop, "not_part10", exc.reason)
        except DeidentificationError as exc:
            return _failed(series, sop, "unencodable", exc.reason)
        except Exception as exc:  # pydicom raises a wide range on damaged input
            return _failed(series, sop, "unreadable", f"{exc.__class__.__name__}: {exc}")
        stored = self.research.store(copy.data)
        if stored.ok:
            return InstanceResult(
                series,
                sop,
                Outcome.DEIDENTIFIED,
                research_study_uid=stored.study_uid,
                research_series_uid=stored.series_uid,
                research_sop_uid=stored.sop_uid,
                stored=stored.status.value,
                pixel_rule=copy.pixel_rule,
            )
        if stored.conflict:
            return _failed(series, sop, "not_stored", stored.message)
        return _Fault(series, sop, "the de-identified copy could not be stored")

    def _audit(self, task: DeidTask, results: list[InstanceResult]) -> None:
        """The quarantine report (and every pixel cleaning) as audit events."""
        if self.audit is None or not worker_events(task, results, None):
            return
        owner = None
        if task.job is not None:  # one read of the job, only when there is something to say
            found = self.ledger.get(task.job)
            owner = found.record.owner if found is not None else None
        for event in worker_events(task, results, owner):
            self.audit.emit(event)

    @staticmethod
    def _log(task: DeidTask, result: InstanceResult) -> None:
        # Codes and UIDs only: a reason may quote a value of the original instance.
        if result.outcome is Outcome.DEIDENTIFIED:
            return
        log.warning(
            "job %s study %s instance %s: %s (%s)",
            task.job or "auto",
            task.study,
            result.sop_uid,
            result.outcome.value,
            result.code,
        )
