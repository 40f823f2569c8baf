"""Repair sweep: reconcile objects and index entries (DESIGN.md §6).

Writes store the object before indexing it, and deletes remove the index entry before the
object, so a crash can leave only two kinds of inconsistency, both found here:
- an object without an index entry (stored, not yet indexed): it is parsed and indexed;
- an index entry without an object (lost storage): it is reported and, when fixing,
  removed so searches stop offering what cannot be retrieved.

Corrections (``services.corrections``) interrupted by a crash are finished or rolled back
first, so the sweep sees each study whole, either as it was or as corrected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.errors import InvalidDicom
from cloudpacs.keys import instance_key
from cloudpacs.model import StudyKeys
from cloudpacs.ports import BlobStore, Index
from cloudpacs.services.corrections import CorrectionService

log = logging.getLogger(__name__)


@dataclass
class RepairReport:
    checked_objects: int = 0
    indexed: list[str] = field(default_factory=list)
    """Keys of objects that had no index entry and were indexed."""
    unreadable: list[str] = field(default_factory=list)
    """Keys of objects that are not valid DICOM or not where their UIDs say."""
    dangling: list[str] = field(default_factory=list)
    """Keys named by index entries whose object is missing."""
    updates_finished: list[str] = field(default_factory=list)
    """Studies whose interrupted correction was completed."""
    updates_rolled_back: list[str] = field(default_factory=list)
    """Studies whose interrupted correction had not been decided: left as they were."""


class RepairService:
    def __init__(
        self, index: Index, blobs: BlobStore, corrections: CorrectionService | None = None
    ) -> None:
        self.index = index
        self.blobs = blobs
        self.corrections = corrections or CorrectionService(index, blobs)
        """Its hooks publish ``InstancesUpdated`` for what a finished correction rewrote."""

    def sweep(self, *, fix: bool = True) -> RepairReport:
        report = RepairReport()
        if fix:
            recovered = self.corrections.recover()
            report.updates_finished = recovered.finished
            report.updates_rolled_back = recovered.rolled_back
        for key in self.blobs.list_keys("studies/"):
            if key.endswith(".dcm"):
                report.checked_objects += 1
                self._check_object(key, report, fix)
        for study in list(self.index.find_studies(StudyKeys())):
            partition = self.index.study_partition(study.study_uid)
            if partition is None:
                continue
            for rec in partition.instances:
                key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
                if self.blobs.head(key) is None:
                    report.dangling.append(key)
                    if fix:
                        self.index.remove_instances(rec.study_uid, rec.series_uid, rec.sop_uid)
        if (
            report.indexed
            or report.dangling
            or report.unreadable
            or report.updates_finished
            or report.updates_rolled_back
        ):
            log.warning(
                "repair sweep: %d indexed, %d dangling entries, %d unreadable objects, "
                "%d corrections finished, %d rolled back",
                len(report.indexed),
                len(report.dangling),
                len(report.unreadable),
                len(report.updates_finished),
                len(report.updates_rolled_back),
            )
        return report

    def _check_object(self, key: str, report: RepairReport, fix: bool) -> None:
        parts = key.split("/")
        if len(parts) != 6:
            report.unreadable.append(key)
            return
        study, series, sop = parts[1], parts[3], parts[5].removesuffix(".dcm")
        if self.index.get_instance(study, series, sop) is not None:
            return
        try:
            parsed = parse_instance(self.blobs.get(key))
        except InvalidDicom:
            report.unreadable.append(key)
            return
        rec = parsed.record
        if (rec.study_uid, rec.series_uid, rec.sop_uid) != (study, series, sop):
            report.unreadable.append(key)
            return
        report.indexed.append(key)
        if fix:
            self.index.add_instance(parsed.entry, replace=False)
