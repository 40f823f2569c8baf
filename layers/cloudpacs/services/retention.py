"""Retention: studies into which nothing was stored for the retention period are deleted.

The job (``cloudpacs retention run`` locally, the ``retention`` function on a daily schedule
in AWS) asks the index for studies whose last store is older than ``retention_days``
(``Index.studies_stored_before``), passes by those on legal hold, and deletes the rest through
the delete service: objects, index entries, caches and ``InstanceDeleted`` events go exactly
as for a user's ``DELETE``. Each study deleted (or that failed to delete) leaves one audit
event in the name of the job (actor ``retention``, entry point ``retention``, action
``delete``). A study held between selection and deletion is refused by the delete service
and counted as held. A run may stop early (``should_continue``, e.g. the Lambda's remaining
time): what it did not reach is selected again by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cloudpacs.errors import NotFound
from cloudpacs.ports import AuditSink, Index
from cloudpacs.security.audit import AuditEvent, EntryPoint, Outcome, format_time
from cloudpacs.security.permissions import Action
from cloudpacs.services.delete import DeleteService
from cloudpacs.services.legal_hold import StudyOnHold

log = logging.getLogger(__name__)

ACTOR = "retention"
REASON = "retention_period"


@dataclass
class RetentionReport:
    cutoff: str
    """Studies last stored before this time were due."""
    dry_run: bool
    deleted: list[str] = field(default_factory=list)
    """Study UIDs deleted (with ``dry_run``: that would be deleted)."""
    held: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    instances: int = 0
    complete: bool = True
    """False when the run stopped before it had seen every due study."""

    def to_json(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff,
            "dry_run": self.dry_run,
            "deleted": self.deleted,
            "held": self.held,
            "failed": self.failed,
            "instances": self.instances,
            "complete": self.complete,
        }


def cutoff_for(now: datetime, days: int) -> str:
    """The time ``days`` before ``now``, in the form of ``InstanceRecord.stored_at``."""
    return (now - timedelta(days=days)).astimezone(UTC).isoformat(timespec="milliseconds")


class RetentionService:
    def __init__(self, index: Index, delete: DeleteService, audit: AuditSink, *, days: int) -> None:
        if days < 1:
            raise ValueError("the retention period is at least one day")
        self.index = index
        self.delete = delete
        self.audit = audit
        self.days = days
        self.on_run: list[Callable[[RetentionReport], None]] = []
        """Called with the report of each run that changed something (not dry runs)."""

    def run(
        self,
        *,
        now: datetime | None = None,
        dry_run: bool = False,
        should_continue: Callable[[], bool] = lambda: True,
    ) -> RetentionReport:
        report = RetentionReport(cutoff_for(now or datetime.now(UTC), self.days), dry_run)
        for study in self.index.studies_stored_before(report.cutoff):
            if not should_continue():
                report.complete = False
                break
            if study.hold is not None:
                report.held.append(study.study_uid)
            elif dry_run:
                report.deleted.append(study.study_uid)
            else:
                self._delete(study.study_uid, report)
        log.info(
            "retention (cutoff %s%s): %d studies deleted, %d on hold, %d failed",
            report.cutoff,
            ", dry run" if dry_run else "",
            len(report.deleted),
            len(report.held),
            len(report.failed),
        )
        if not dry_run:
            for hook in self.on_run:
                hook(report)
        return report

    def _delete(self, study: str, report: RetentionReport) -> None:
        try:
            removed = self.delete.delete(study)
        except StudyOnHold:
            report.held.append(study)
            return
        except NotFound:
            return  # deleted by someone else since it was selected
        except Exception:
            log.exception("retention could not delete study %s", study)
            report.failed.append(study)
            self._audit(study, Outcome.FAILED, 500, None)
            return
        report.deleted.append(study)
        report.instances += len(removed)
        self._audit(study, Outcome.SUCCESS, 200, len(removed))

    def _audit(self, study: str, outcome: Outcome, status: int, count: int | None) -> None:
        self.audit.emit(
            AuditEvent(
                time=format_time(datetime.now(UTC)),
                actor=ACTOR,
                roles=(),
                source_address=None,
                action=Action.DELETE.value,
                outcome=outcome,
                status=status,
                request_id=None,
                entry_point=EntryPoint.RETENTION,
                study_uid=study,
                instance_count=count,
                reason=REASON if outcome is Outcome.SUCCESS else "internal_error",
            )
        )
