"""Index.remove_instances at instance, series and study level: aggregates are recomputed
from what remains, and series and studies left empty disappear."""

from __future__ import annotations

import pytest

from cloudpacs.model import IndexEntry, StudyKeys

from .conftest import Adapters
from .records import CT_IMAGE, MR_IMAGE, entry
from .records import uid as u

STUDY = u(20)
CT = u(20, 1)
MR = u(20, 2)


@pytest.fixture
def study(adapters: Adapters) -> dict[str, IndexEntry]:
    """CT series with 3 instances, MR series with 1, and an unrelated study."""
    entries = {
        "ct1": entry(STUDY, CT, u(20, 1, 1)),
        "ct2": entry(STUDY, CT, u(20, 1, 2)),
        "ct3": entry(STUDY, CT, u(20, 1, 3)),
        "mr1": entry(STUDY, MR, u(20, 2, 1), modality="MR", sop_class=MR_IMAGE),
        "other": entry(u(21), u(21, 1), u(21, 1, 1)),
    }
    for e in entries.values():
        adapters.index.add_instance(e, replace=False)
    return entries


def counts(adapters: Adapters) -> tuple[int, int]:
    found = adapters.index.get_study(STUDY)
    assert found is not None
    return found.series_count, found.instance_count


def revision(adapters: Adapters, series: str) -> int:
    found = adapters.index.series_partition(STUDY, series)
    assert found is not None
    return found[0].revision


def test_remove_one_instance(adapters: Adapters, study: dict[str, IndexEntry]) -> None:
    before = revision(adapters, CT)
    removed = adapters.index.remove_instances(STUDY, CT, u(20, 1, 2))
    assert removed == [study["ct2"].instance]
    assert adapters.index.get_instance(STUDY, CT, u(20, 1, 2)) is None
    assert adapters.index.locate_instance(u(20, 1, 2)) is None
    assert counts(adapters) == (2, 3)
    found = adapters.index.series_partition(STUDY, CT)
    assert found is not None
    assert found[0].instance_count == 2
    assert found[0].revision != before
    assert sorted(i.sop_uid for i in found[1]) == [u(20, 1, 1), u(20, 1, 3)]


def test_remove_one_instance_named_without_its_series(
    adapters: Adapters, study: dict[str, IndexEntry]
) -> None:
    assert adapters.index.remove_instances(STUDY, sop_uid=u(20, 1, 3)) == [study["ct3"].instance]
    assert counts(adapters) == (2, 3)


def test_removing_the_last_instance_drops_its_series_and_aggregates(
    adapters: Adapters, study: dict[str, IndexEntry]
) -> None:
    removed = adapters.index.remove_instances(STUDY, MR, u(20, 2, 1))
    assert removed == [study["mr1"].instance]
    assert adapters.index.series_partition(STUDY, MR) is None
    assert adapters.index.locate_series(MR) is None
    remaining = adapters.index.get_study(STUDY)
    assert remaining is not None
    assert (remaining.series_count, remaining.instance_count) == (1, 3)
    assert remaining.modalities == ("CT",)
    assert remaining.sop_classes == (CT_IMAGE,)


def test_remove_a_series(adapters: Adapters, study: dict[str, IndexEntry]) -> None:
    removed = adapters.index.remove_instances(STUDY, CT)
    assert sorted(removed, key=lambda r: r.sop_uid) == [
        study["ct1"].instance,
        study["ct2"].instance,
        study["ct3"].instance,
    ]
    assert adapters.index.series_partition(STUDY, CT) is None
    remaining = adapters.index.get_study(STUDY)
    assert remaining is not None
    assert (remaining.series_count, remaining.instance_count) == (1, 1)
    assert (remaining.modalities, remaining.sop_classes) == (("MR",), (MR_IMAGE,))
    assert adapters.index.series_partition(STUDY, MR) is not None


def test_remove_a_study(adapters: Adapters, study: dict[str, IndexEntry]) -> None:
    removed = adapters.index.remove_instances(STUDY)
    assert sorted(r.sop_uid for r in removed) == sorted(
        e.instance.sop_uid for name, e in study.items() if name != "other"
    )
    index = adapters.index
    assert index.get_study(STUDY) is None
    assert index.study_partition(STUDY) is None
    assert index.get_studies([STUDY]) == []
    assert index.locate_series(CT) is None
    assert index.locate_instance(u(20, 2, 1)) is None
    assert STUDY not in {s.study_uid for s in index.find_studies(StudyKeys())}
    assert STUDY not in {s.study_uid for s in index.find_studies(StudyKeys(patient_id="PAT-1"))}
    assert index.get_study(u(21)) is not None, "other studies are untouched"


def test_removing_what_is_absent_changes_nothing(
    adapters: Adapters, study: dict[str, IndexEntry]
) -> None:
    before = adapters.index.study_partition(STUDY)
    assert adapters.index.remove_instances(STUDY, CT, u(99)) == []
    assert adapters.index.remove_instances(STUDY, u(99)) == []
    assert adapters.index.remove_instances(u(99)) == []
    assert adapters.index.study_partition(STUDY) == before


def test_a_removed_study_can_be_stored_again(
    adapters: Adapters, study: dict[str, IndexEntry]
) -> None:
    adapters.index.remove_instances(STUDY)
    adapters.index.add_instance(study["mr1"], replace=False)
    assert adapters.index.get_instance(STUDY, MR, u(20, 2, 1)) == study["mr1"].instance
    assert counts(adapters) == (1, 1)
    again = adapters.index.get_study(STUDY)
    assert again is not None
    assert (again.modalities, again.sop_classes) == (("MR",), (MR_IMAGE,))
