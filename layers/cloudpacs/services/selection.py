"""Which instances a retrieve request names (PS3.4 C.4.2.2.1, C.4.3.2.1: baseline,
non-relational retrieval), for C-GET and C-MOVE.

At each level the unique key carries one or more values (UID lists for STUDY, SERIES and
IMAGE; one PatientID for PATIENT). Keys of the levels above, when given, narrow the lookup;
when absent, the index locates the study of a series or instance. Unknown UIDs name nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from cloudpacs.dicom.attributes import Level
from cloudpacs.errors import NotFound
from cloudpacs.model import InstanceRecord
from cloudpacs.ports import Index
from cloudpacs.services.matching import MatchKey
from cloudpacs.services.query import QueryService
from cloudpacs.services.query_model import Query
from cloudpacs.services.retrieve import RetrieveService
from cloudpacs.study_keys import first_value

STUDY_INSTANCE_UID = "0020000D"
Target = tuple[str, str | None, str | None]
"""(study, series or None, SOP instance or None)."""


class InstanceSelection:
    def __init__(self, index: Index, query: QueryService, retrieve: RetrieveService) -> None:
        self.index = index
        self.query = query
        self.retrieve = retrieve

    def of_patient(self, patient_id: str) -> list[InstanceRecord]:
        """Every instance of the studies whose PatientID matches ``patient_id`` exactly."""
        key = MatchKey(("00100020",), "LO", patient_id)
        studies = self.query.search(Query(level=Level.STUDY, keys=(key,))).items
        uids = [first_value(study, STUDY_INSTANCE_UID) for study in studies]
        return self.of_studies([uid for uid in uids if uid])

    def of_studies(self, study_uids: list[str]) -> list[InstanceRecord]:
        return self._gather((study, None, None) for study in study_uids)

    def of_series(self, series_uids: list[str], *, within: list[str]) -> list[InstanceRecord]:
        """Instances of ``series_uids``; ``within`` (study UIDs), when not empty, narrows."""
        targets: list[Target] = []
        for series in series_uids:
            study = self.index.locate_series(series)
            if study is not None and (not within or study in within):
                targets.append((study, series, None))
        return self._gather(targets)

    def of_instances(
        self, sop_uids: list[str], *, studies: list[str], series: list[str]
    ) -> list[InstanceRecord]:
        """The instances ``sop_uids``; ``studies`` and ``series``, when not empty, narrow."""
        targets: list[Target] = []
        for sop in sop_uids:
            located = self.index.locate_instance(sop)
            if located is None:
                continue
            study, series_uid = located
            if (studies and study not in studies) or (series and series_uid not in series):
                continue
            targets.append((study, series_uid, sop))
        return self._gather(targets)

    def _gather(self, targets: Iterable[Target]) -> list[InstanceRecord]:
        found: dict[str, InstanceRecord] = {}
        for study, series, sop in targets:
            try:
                for rec in self.retrieve.instances(study, series, sop):
                    found.setdefault(rec.sop_uid, rec)
            except NotFound:
                continue
        return list(found.values())
