"""Search: QIDO-RS (PS3.18 §10.6) and C-FIND run this one service.

The index narrows candidates by the keys it can look up (``StudyKeys``); every match is
then decided by ``matching`` over the study, series and instance attributes together, so
both backends return the same results. Results are ordered (studies newest first, series
by number, instances by number), paged with ``limit``/``offset``, and capped by the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from cloudpacs.dicom import attributes as A
from cloudpacs.dicom.attributes import Level
from cloudpacs.dicom.json_model import BULK_BASE
from cloudpacs.dicom.names import normalize_name
from cloudpacs.errors import NotFound
from cloudpacs.model import (
    InstanceRecord,
    JsonDataset,
    SeriesRecord,
    StudyKeys,
    StudyPartition,
    StudyRecord,
)
from cloudpacs.ports import Index
from cloudpacs.services.matching import has_wildcard, matches_all, uid_list
from cloudpacs.services.query_model import Query
from cloudpacs.services.return_keys import with_required

STUDY_UID = A.tag_hex("StudyInstanceUID")
SERIES_UID = A.tag_hex("SeriesInstanceUID")
SOP_UID = A.tag_hex("SOPInstanceUID")
PATIENT_ID = A.tag_hex("PatientID")
ACCESSION = A.tag_hex("AccessionNumber")
STUDY_DATE = A.tag_hex("StudyDate")
PATIENT_NAME = A.tag_hex("PatientName")
RETRIEVE_URL = A.tag_hex("RetrieveURL")
AVAILABILITY = A.tag_hex("InstanceAvailability")
SERIES_NUMBER = A.tag_hex("SeriesNumber")
INSTANCE_NUMBER = A.tag_hex("InstanceNumber")
STUDY_TIME = A.tag_hex("StudyTime")

_LEVEL_TAGS: dict[Level, frozenset[str]] = {
    Level.STUDY: frozenset(A.tags_of(A.STUDY_ATTRIBUTES + A.COMPUTED_STUDY)),
    Level.SERIES: frozenset(A.tags_of(A.SERIES_ATTRIBUTES + A.COMPUTED_SERIES)),
    Level.INSTANCE: frozenset(A.tags_of(A.INSTANCE_ATTRIBUTES)),
}
_DEFAULTS: dict[Level, frozenset[str]] = {
    Level.STUDY: frozenset(A.tags_of(A.DEFAULT_STUDY_RESULT)),
    Level.SERIES: frozenset(A.tags_of(A.DEFAULT_SERIES_RESULT)),
    Level.INSTANCE: frozenset(A.tags_of(A.DEFAULT_INSTANCE_RESULT)),
}
_ORDER = (Level.STUDY, Level.SERIES, Level.INSTANCE)


@dataclass(frozen=True)
class QueryResult:
    items: list[JsonDataset]
    truncated: bool = False
    """More matches exist than the server cap allowed to return."""
    ignored_keys: tuple[str, ...] = field(default=())
    """Matching keys this level does not support; they were not applied."""


def supported_tags(level: Level) -> frozenset[str]:
    """Tags that can be matched at ``level``: its own and those of the levels above."""
    tags: frozenset[str] = frozenset()
    for lvl in _ORDER[: _ORDER.index(level) + 1]:
        tags |= _LEVEL_TAGS[lvl]
    return tags


def study_view(study: StudyRecord) -> JsonDataset:
    """Study attributes plus the computed ones of PS3.18 Table 10.6.3-3."""
    view = dict(study.attrs)
    view[A.tag_hex("ModalitiesInStudy")] = _values("CS", list(study.modalities))
    view[A.tag_hex("SOPClassesInStudy")] = _values("UI", list(study.sop_classes))
    view[A.tag_hex("NumberOfStudyRelatedSeries")] = _values("IS", [study.series_count])
    view[A.tag_hex("NumberOfStudyRelatedInstances")] = _values("IS", [study.instance_count])
    return view


def series_view(series: SeriesRecord) -> JsonDataset:
    view = dict(series.attrs)
    view[A.tag_hex("NumberOfSeriesRelatedInstances")] = _values("IS", [series.instance_count])
    return view


def _values(vr: str, values: list[object]) -> dict[str, object]:
    return {"vr": vr, "Value": values} if values else {"vr": vr}


def _number(view: JsonDataset, tag: str) -> float:
    values = view.get(tag, {}).get("Value")
    try:
        return float(values[0]) if values else float("inf")
    except (TypeError, ValueError):
        return float("inf")


def _text(view: JsonDataset, tag: str) -> str:
    values = view.get(tag, {}).get("Value")
    return str(values[0]) if values else ""


def study_sort_key(study: StudyRecord) -> tuple[str, str, str]:
    return (_text(study.attrs, STUDY_DATE), _text(study.attrs, STUDY_TIME), study.study_uid)


SearchedHook = Callable[[Query, "QueryResult"], None]


class QueryService:
    def __init__(
        self,
        index: Index,
        *,
        max_results: int = 1000,
        on_searched: list[SearchedHook] | None = None,
    ) -> None:
        self.index = index
        self.max_results = max_results
        self.on_searched = on_searched if on_searched is not None else []
        """Called with each answered query and its result (metrics)."""

    def search(self, query: Query) -> QueryResult:
        supported = supported_tags(query.level)
        keys = tuple(k for k in query.keys if k.path[0] in supported)
        ignored = tuple(k.path[0] for k in query.keys if k.path[0] not in supported)
        query = Query(**{**query.__dict__, "keys": keys})
        limit = self.max_results if query.limit is None else min(query.limit, self.max_results)
        rows = self._rows(query)
        page = list(islice(rows, query.offset, query.offset + limit + 1))
        capped = len(page) > limit and (query.limit is None or query.limit > limit)
        items = [self._project(query, view, uids) for view, uids in page[:limit]]
        result = QueryResult(items=items, truncated=capped, ignored_keys=ignored)
        for hook in self.on_searched:
            hook(query, result)
        return result

    # -- candidates and matching ------------------------------------------------------
    def _rows(self, q: Query) -> Iterator[tuple[JsonDataset, tuple[str, ...]]]:
        studies = self._candidate_studies(q)
        if q.level is Level.STUDY:
            for study in studies:
                view = study_view(study)
                if matches_all(view, q.keys, fuzzy=q.fuzzy):
                    yield view, (study.study_uid,)
            return
        for study in studies:
            partition = self._partition(q, study)
            if partition is None:
                continue
            yield from self._lower_rows(q, partition)

    def _partition(self, q: Query, study: StudyRecord) -> StudyPartition | None:
        if q.series_uid is not None:
            found = self.index.series_partition(study.study_uid, q.series_uid)
            if found is None:
                return None
            return StudyPartition(study=study, series=(found[0],), instances=found[1])
        return self.index.study_partition(study.study_uid)

    def _lower_rows(
        self, q: Query, partition: StudyPartition
    ) -> Iterator[tuple[JsonDataset, tuple[str, ...]]]:
        s_view = study_view(partition.study)
        by_series: dict[str, list[InstanceRecord]] = {}
        for inst in partition.instances:
            by_series.setdefault(inst.series_uid, []).append(inst)
        series_views = sorted(
            ((series, {**s_view, **series_view(series)}) for series in partition.series),
            key=lambda sv: (_number(sv[1], SERIES_NUMBER), sv[0].series_uid),
        )
        for series, se_view in series_views:
            if q.series_uid is not None and series.series_uid != q.series_uid:
                continue
            if q.level is Level.SERIES:
                if matches_all(se_view, q.keys, fuzzy=q.fuzzy):
                    yield se_view, (series.study_uid, series.series_uid)
                continue
            views = [
                ({**se_view, **inst.attrs}, inst) for inst in by_series.get(series.series_uid, [])
            ]
            views.sort(key=lambda vi: (_number(vi[0], INSTANCE_NUMBER), vi[1].sop_uid))
            for view, inst in views:
                if matches_all(view, q.keys, fuzzy=q.fuzzy):
                    yield view, (inst.study_uid, inst.series_uid, inst.sop_uid)

    def _candidate_studies(self, q: Query) -> list[StudyRecord]:
        keys = self.study_keys(q)
        if keys.study_uids == ():
            return []
        studies = list(self.index.find_studies(keys))
        if q.study_uid is not None and not studies:
            raise NotFound(f"study {q.study_uid} not found")
        studies.sort(key=study_sort_key, reverse=True)
        return studies

    def study_keys(self, q: Query) -> StudyKeys:
        """The index lookups that narrow ``q``: a superset of its matches."""
        study_uids: set[str] | None = None
        if q.study_uid is not None:
            study_uids = {q.study_uid}
        k = q.key(STUDY_UID)
        if k is not None and not k.universal:
            listed = set(uid_list(k.value))
            study_uids = listed if study_uids is None else study_uids & listed
        if study_uids is None:
            study_uids = self._locate(q)
        patient = self._exact(q, PATIENT_ID)
        accession = self._exact(q, ACCESSION)
        date = q.key(STUDY_DATE)
        date_range: tuple[str, str] | None = None
        if date is not None and not date.universal:
            start, sep, end = date.value.partition("-")
            date_range = (start, end or "99991231") if sep else (start, start)
        name_prefix = None
        name = q.key(PATIENT_NAME)
        if name is not None and not name.universal and not q.fuzzy:
            literal = name.value.split("=", 1)[0]
            for i, c in enumerate(literal):
                if c in "*?":
                    literal = literal[:i]
                    break
            name_prefix = normalize_name(literal) or None
        return StudyKeys(
            study_uids=tuple(sorted(study_uids)) if study_uids is not None else None,
            patient_id=patient,
            accession_number=accession,
            study_date=date_range,
            patient_name_prefix=name_prefix,
        )

    def _exact(self, q: Query, tag: str) -> str | None:
        k = q.key(tag)
        if k is None or k.universal or has_wildcard(k.value):
            return None
        return k.value.strip() or None  # padding is not significant (as in matching)

    def _locate(self, q: Query) -> set[str] | None:
        """Studies holding the series or instances named by UID keys, if any are given."""
        for tag, finder in ((SERIES_UID, self.index.locate_series), (SOP_UID, None)):
            k = q.key(tag)
            if k is None or k.universal:
                continue
            found: set[str] = set()
            for uid in uid_list(k.value):
                if finder is not None:
                    study = finder(uid)
                    if study:
                        found.add(study)
                else:
                    located = self.index.locate_instance(uid)
                    if located:
                        found.add(located[0])
            return found
        if q.series_uid is not None:
            study = self.index.locate_series(q.series_uid)
            return {study} if study else set()
        return None

    # -- results ------------------------------------------------------------------------
    def _project(self, q: Query, view: JsonDataset, uids: tuple[str, ...]) -> JsonDataset:
        view = dict(view)
        path = "/studies/" + uids[0]
        if len(uids) > 1:
            path += "/series/" + uids[1]
        if len(uids) > 2:
            path += "/instances/" + uids[2]
        view[RETRIEVE_URL] = {"vr": "UR", "Value": [BULK_BASE + path]}
        view[AVAILABILITY] = {"vr": "CS", "Value": ["ONLINE"]}
        levels = _result_levels(q)
        if q.include_all:
            return with_required(view, levels)
        wanted = set(_DEFAULTS[q.level]) | q.include | {k.path[0] for k in q.keys}
        if q.level is not Level.STUDY:
            wanted.add(STUDY_UID)
        if q.level is Level.INSTANCE:
            wanted.add(SERIES_UID)
        for level in levels:
            wanted |= _DEFAULTS[level]
        return with_required({tag: view[tag] for tag in wanted if tag in view}, levels)


def _result_levels(q: Query) -> tuple[Level, ...]:
    """The levels whose default attributes a result carries: its own, and those above it that
    the resource path does not fix (PS3.18 §10.6.3.3: all series include the study's)."""
    levels = [q.level]
    if q.level is Level.INSTANCE and q.series_uid is None:
        levels.append(Level.SERIES)
    if q.level is not Level.STUDY and q.study_uid is None:
        levels.append(Level.STUDY)
    return tuple(levels)
