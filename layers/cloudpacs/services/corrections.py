"""Corrections of a stored study's patient and study attributes, and the merge of patients.

Every object of the study is rewritten with the new values (UIDs kept) and indexed again, so
QIDO-RS, WADO-RS and metadata all show the corrected values. An update is all or nothing:

1. a journal (``studies/{study}/updates/journal.json``, written only if absent: one update
   of a study at a time) records the changes and the state ``staging``;
2. each corrected object is written beside the study as a staged copy (the stored objects
   are untouched);
3. the journal turns ``applying``: from here the update is decided;
4. each staged copy replaces its object and is indexed (``add_instance(replace=True)``,
   which also takes the study's new attributes into the index);
5. the staged copies and the journal are removed.

A crash before 3 leaves the study as it was: the repair sweep (``recover``) removes the
staged copies. A crash after 3 leaves some objects corrected and some not: the sweep
finishes the update from the staged copies. Readers during step 4 may see both versions;
after it, or after the sweep, never. A store into the study while it is being corrected is
kept as sent (with the old values); correct again after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cloudpacs.dicom import corrections
from cloudpacs.dicom.corrections import Change
from cloudpacs.dicom.parse import ParsedInstance, parse_instance
from cloudpacs.errors import BadRequest, Conflict, NotFound
from cloudpacs.keys import instance_key, study_prefix
from cloudpacs.model import InstanceRecord, StudyKeys
from cloudpacs.ports import BlobExists, BlobNotFound, BlobStore, Index
from cloudpacs.security.audit import parse_time, utc_now
from cloudpacs.uids import check_uid

log = logging.getLogger(__name__)

UpdatedHook = Callable[[InstanceRecord], None]
Precondition = Callable[[list[InstanceRecord]], None]
STAGING, APPLYING = "staging", "applying"
STALE_AFTER = timedelta(minutes=30)
"""No correction runs this long (Lambda stops a function after 15 minutes): a journal this
old is debris of a crash, finished or rolled back by the next correction of the study."""
PATIENT_ID = "00100020"
MAX_PATIENT_ID = 64
"""PatientID is LO: at most 64 characters."""


def journal_key(study: str) -> str:
    return study_prefix(study) + "updates/journal.json"


def staged_key(study: str, series: str, sop: str) -> str:
    """Where the corrected copy of an instance waits: not a ``.dcm`` key, so never indexed."""
    instance_key(study, series, sop)  # checks the UIDs
    return study_prefix(study) + f"updates/{series}/{sop}.staged"


@dataclass(frozen=True)
class Correction:
    study_uid: str
    instances: int
    previous: dict[str, str]
    """Keyword -> the value the study held before (from its first instance)."""
    records: list[InstanceRecord] = field(repr=False, default_factory=list)


@dataclass
class RecoveryReport:
    finished: list[str] = field(default_factory=list)
    """Studies whose interrupted update was completed."""
    rolled_back: list[str] = field(default_factory=list)
    """Studies whose update had not been decided: staged copies removed."""


class CorrectionService:
    def __init__(
        self, index: Index, blobs: BlobStore, *, on_updated: list[UpdatedHook] | None = None
    ) -> None:
        self.index = index
        self.blobs = blobs
        self.on_updated = on_updated if on_updated is not None else []

    def update_study(
        self, study: str, changes: list[Change], *, precondition: Precondition | None = None
    ) -> Correction:
        """Apply ``changes`` to every instance of ``study``; ``precondition`` sees the
        instances first and raises to refuse (a stale ``If-Match``)."""
        check_uid(study, "StudyInstanceUID")
        partition = self.index.study_partition(study)
        if partition is None or not partition.instances:
            raise NotFound(f"study {study} not found")
        records = list(partition.instances)
        if precondition is not None:
            precondition(records)
        journal: dict[str, object] = {
            "study": study,
            "state": STAGING,
            "started": utc_now(),
            "changes": {c.attribute.tag: c.value for c in changes},
            "instances": [[r.series_uid, r.sop_uid] for r in records],
        }
        try:
            try:
                self._write_journal(study, journal, overwrite=False)
            except BlobExists:
                if not self._take_over_stale(study):
                    raise
                self._write_journal(study, journal, overwrite=False)
        except BlobExists:
            raise Conflict(
                f"an update of study {study} is in progress (or was interrupted: the repair "
                "sweep finishes or rolls it back); try again later"
            ) from None
        try:
            staged, previous = self._stage(records, changes)
        except BaseException:
            self._roll_back(study, _members(records))
            raise
        journal["state"] = APPLYING
        journal["previous"] = previous
        self._write_journal(study, journal, overwrite=True)
        updated = [self._swap(parsed) for parsed in staged]
        self._clean(study, _members(records))
        for rec in updated:
            for hook in self.on_updated:
                hook(rec)
        return Correction(study, len(updated), previous, updated)

    def merge_patient(
        self,
        source: str,
        changes: list[Change],
        *,
        precondition: Precondition | None = None,
    ) -> list[Correction]:
        """Give every study of patient ``source`` (exact PatientID) the patient attributes
        in ``changes`` (the target patient's ID, and its name, birth date... if given)."""
        if not source or len(source) > MAX_PATIENT_ID or "\\" in source:
            raise BadRequest("the patient to merge is a PatientID (1 to 64 characters)")
        levels = {c.attribute.keyword: c.attribute.level for c in changes}
        if "PatientID" not in levels:
            raise BadRequest("a merge names the target patient's PatientID")
        if not_patient := sorted(k for k, level in levels.items() if level != "patient"):
            raise BadRequest(
                f"a merge changes patient attributes only, not {', '.join(not_patient)}"
            )
        studies = [
            s.study_uid
            for s in self.index.find_studies(StudyKeys(patient_id=source))
            if (s.attrs.get(PATIENT_ID, {}).get("Value") or [None])[0] == source
        ]
        if not studies:
            raise NotFound(f"no study of patient {source!r}")
        return [self.update_study(s, changes, precondition=precondition) for s in studies]

    # -- steps ------------------------------------------------------------------------
    def _write_journal(self, study: str, journal: dict[str, object], *, overwrite: bool) -> None:
        data = json.dumps(journal, sort_keys=True).encode()
        sha = hashlib.sha256(data).hexdigest()
        self.blobs.put(journal_key(study), data, sha256=sha, overwrite=overwrite)

    def _stage(
        self, records: list[InstanceRecord], changes: list[Change]
    ) -> tuple[list[ParsedInstance], dict[str, str]]:
        staged: list[ParsedInstance] = []
        previous: dict[str, str] = {}
        for rec in records:
            data = self.blobs.get(instance_key(rec.study_uid, rec.series_uid, rec.sop_uid))
            if not previous:
                previous = corrections.current_values(data, changes)
            parsed = parse_instance(corrections.apply(data, changes))
            key = staged_key(rec.study_uid, rec.series_uid, rec.sop_uid)
            self.blobs.put(key, parsed.data, sha256=parsed.record.sha256, overwrite=True)
            staged.append(parsed)
        return staged, previous

    def _swap(self, parsed: ParsedInstance) -> InstanceRecord:
        rec = parsed.record
        key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
        self.blobs.put(key, parsed.data, sha256=rec.sha256, overwrite=True)
        self.index.add_instance(parsed.entry, replace=True)
        return rec

    def _clean(self, study: str, members: list[tuple[str, str]]) -> None:
        for series, sop in members:
            self.blobs.delete(staged_key(study, series, sop))
        self.blobs.delete(journal_key(study))

    def _roll_back(self, study: str, members: list[tuple[str, str]]) -> None:
        try:
            self._clean(study, members)
        except Exception:
            log.exception("rolling back the update of study %s failed; the sweep will", study)

    # -- recovery (the repair sweep) ----------------------------------------------------
    def recover(self) -> RecoveryReport:
        """Finish or roll back every update a crash interrupted (run it when no correction
        is running, as the repair sweep is run)."""
        report = RecoveryReport()
        for study in self._interrupted():
            outcome = self._recover_study(study)
            if outcome == APPLYING:
                report.finished.append(study)
            elif outcome == STAGING:
                report.rolled_back.append(study)
        return report

    def _recover_study(self, study: str) -> str | None:
        """Finish (``applying``) or roll back (``staging``) the study's journal; the state
        it was in, or None when there was only debris."""
        try:
            journal = json.loads(self.blobs.get(journal_key(study)))
        except (BlobNotFound, ValueError):
            self._drop_strays(study)
            return None
        members = [(str(series), str(sop)) for series, sop in journal.get("instances", [])]
        if journal.get("state") == APPLYING:
            for series, sop in members:
                self._finish(study, series, sop)
            self._clean(study, members)
            return APPLYING
        self._clean(study, members)
        self._drop_strays(study)
        return STAGING

    def _take_over_stale(self, study: str) -> bool:
        """Recover a journal older than any correction can run (a process that died
        without a sweep after it, such as a Lambda function that timed out)."""
        try:
            journal = json.loads(self.blobs.get(journal_key(study)))
            started = parse_time(str(journal["started"]))
        except (BlobNotFound, ValueError, KeyError):
            return False
        if datetime.now(UTC) - started < STALE_AFTER:
            return False
        log.warning("taking over the interrupted correction of study %s", study)
        self._recover_study(study)
        return True

    def _interrupted(self) -> Iterator[str]:
        seen: set[str] = set()
        for key in self.blobs.list_keys("studies/"):
            parts = key.split("/")
            if len(parts) > 3 and parts[2] == "updates" and parts[1] not in seen:
                seen.add(parts[1])
                yield parts[1]

    def _drop_strays(self, study: str) -> None:
        for key in list(self.blobs.list_keys(study_prefix(study) + "updates/")):
            if key.endswith(".staged"):
                self.blobs.delete(key)

    def _finish(self, study: str, series: str, sop: str) -> None:
        try:
            data = self.blobs.get(staged_key(study, series, sop))
        except BlobNotFound:
            return  # swapped and cleaned already
        parsed = parse_instance(data)
        current = self.index.get_instance(study, series, sop)
        if current is None:
            return  # deleted since: nothing to correct
        if current.sha256 != parsed.record.sha256:
            self._swap(parsed)
        for hook in self.on_updated:
            hook(parsed.record)


def _members(records: list[InstanceRecord]) -> list[tuple[str, str]]:
    return [(r.series_uid, r.sop_uid) for r in records]
