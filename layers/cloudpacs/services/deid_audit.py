"""Audit events of the de-identification worker: the quarantine report, instance by instance.

Each instance that a task quarantines is one event (action ``deidentify``, outcome
``failed``, status 422, ``reason`` the quarantine rule, the instance's UIDs), and so is each
instance whose pixels the Clean Pixel Data Option cleaned (``success``, ``pixels_cleaned``).
They are written in the name of the job's owner, with the job id as ``request_id``
(automatic mode has neither). Copies made without touching the pixels are not audited one by
one: the request that asked for the job was.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudpacs.security.audit import ANONYMOUS, AuditEvent, EntryPoint, Outcome, utc_now
from cloudpacs.security.permissions import Action
from cloudpacs.services.deid_model import DeidTask, InstanceResult
from cloudpacs.services.deid_model import Outcome as InstanceOutcome

PIXELS_CLEANED = "pixels_cleaned"


def worker_events(
    task: DeidTask, results: Sequence[InstanceResult], owner: str | None
) -> list[AuditEvent]:
    events = []
    for result in results:
        quarantined = result.outcome is InstanceOutcome.QUARANTINED
        cleaned = result.outcome is InstanceOutcome.DEIDENTIFIED and result.pixel_rule
        if not (quarantined or cleaned):
            continue
        events.append(
            AuditEvent(
                time=utc_now(),
                actor=owner or ANONYMOUS,
                roles=(),
                source_address=None,
                action=Action.DEIDENTIFY.value,
                outcome=Outcome.FAILED if quarantined else Outcome.SUCCESS,
                status=422 if quarantined else 200,
                request_id=task.job,
                entry_point=EntryPoint.WORKER,
                study_uid=task.study,
                series_uid=result.series_uid,
                sop_uid=result.sop_uid,
                instance_count=1,
                reason=result.code if quarantined else PIXELS_CLEANED,
            )
        )
    return events
