"""Index.add_instance: outcomes, counts, aggregates and the series revision (DESIGN.md §6)."""

from __future__ import annotations

import threading
from collections import Counter

from cloudpacs.model import AddOutcome, StudyKeys, StudyRecord

from .conftest import Adapters
from .records import BASIC_TEXT_SR, CT_IMAGE, MR_IMAGE, encapsulated_frames, entry, native_frames
from .records import uid as u

STUDY = u(1)
SERIES_A = u(1, 1)
SERIES_B = u(1, 2)


def revision(adapters: Adapters, series: str = SERIES_A) -> int:
    found = adapters.index.series_partition(STUDY, series)
    assert found is not None
    return found[0].revision


def test_first_instance_creates_study_and_series(adapters: Adapters) -> None:
    e = entry(STUDY, SERIES_A, u(1, 1, 1))
    result = adapters.index.add_instance(e, replace=False)
    assert result.outcome is AddOutcome.CREATED
    assert adapters.index.get_study(STUDY) == StudyRecord(
        study_uid=STUDY,
        attrs=e.study_attrs,
        series_count=1,
        instance_count=1,
        modalities=("CT",),
        sop_classes=(CT_IMAGE,),
    )
    found = adapters.index.series_partition(STUDY, SERIES_A)
    assert found is not None
    series, instances = found
    assert (series.study_uid, series.series_uid) == (STUDY, SERIES_A)
    assert series.attrs == e.series_attrs
    assert series.instance_count == 1
    assert instances == (e.instance,)


def test_records_round_trip_with_every_kind_of_frame_table(adapters: Adapters) -> None:
    tables = [None, native_frames(4), encapsulated_frames(3, 2), encapsulated_frames(20_000)]
    entries = [entry(STUDY, SERIES_A, u(1, 1, n), frames=t) for n, t in enumerate(tables, 1)]
    for e in entries:
        adapters.index.add_instance(e, replace=False)
    for e in entries:
        rec = e.instance
        assert adapters.index.get_instance(STUDY, SERIES_A, rec.sop_uid) == rec


def test_counts_follow_instances_and_series(adapters: Adapters) -> None:
    for n in range(1, 4):
        adapters.index.add_instance(entry(STUDY, SERIES_A, u(1, 1, n)), replace=False)
    for n in range(1, 3):
        adapters.index.add_instance(entry(STUDY, SERIES_B, u(1, 2, n)), replace=False)
    study = adapters.index.get_study(STUDY)
    assert study is not None
    assert (study.series_count, study.instance_count) == (2, 5)
    partition = adapters.index.study_partition(STUDY)
    assert partition is not None
    counts = {s.series_uid: s.instance_count for s in partition.series}
    assert counts == {SERIES_A: 3, SERIES_B: 2}


def test_existing_instance_is_reported_and_left_untouched(adapters: Adapters) -> None:
    first = entry(STUDY, SERIES_A, u(1, 1, 1), version=1)
    adapters.index.add_instance(first, replace=False)
    before = revision(adapters)
    again = entry(STUDY, SERIES_A, u(1, 1, 1), version=2)
    result = adapters.index.add_instance(again, replace=False)
    assert result.outcome is AddOutcome.EXISTS
    assert result.existing == first.instance
    assert adapters.index.get_instance(STUDY, SERIES_A, u(1, 1, 1)) == first.instance
    assert revision(adapters) == before
    study = adapters.index.get_study(STUDY)
    assert study is not None
    assert (study.series_count, study.instance_count) == (1, 1)


def test_replace_overwrites_without_changing_counts(adapters: Adapters) -> None:
    first = entry(STUDY, SERIES_A, u(1, 1, 1), version=1)
    adapters.index.add_instance(first, replace=False)
    adapters.index.add_instance(entry(STUDY, SERIES_A, u(1, 1, 2)), replace=False)
    before = revision(adapters)
    second = entry(STUDY, SERIES_A, u(1, 1, 1), version=2, frames=native_frames())
    result = adapters.index.add_instance(second, replace=True)
    assert result.outcome is AddOutcome.REPLACED
    assert result.existing == first.instance
    assert adapters.index.get_instance(STUDY, SERIES_A, u(1, 1, 1)) == second.instance
    assert revision(adapters) != before
    study = adapters.index.get_study(STUDY)
    assert study is not None
    assert (study.series_count, study.instance_count) == (1, 2)


def test_replace_updates_study_and_series_attributes(adapters: Adapters) -> None:
    """A corrected object replaces the old one, and its patient/study data take effect."""
    adapters.index.add_instance(entry(STUDY, SERIES_A, u(1, 1, 1)), replace=False)
    corrected = entry(
        STUDY,
        SERIES_A,
        u(1, 1, 1),
        version=2,
        modality="MR",
        patient_id="PAT-9",
        name="Roe^Richard",
    )
    assert adapters.index.add_instance(corrected, replace=True).outcome is AddOutcome.REPLACED
    study = adapters.index.get_study(STUDY)
    assert study is not None
    assert study.attrs["00100020"]["Value"] == ["PAT-9"]
    found = list(adapters.index.find_studies(StudyKeys(patient_id="PAT-9")))
    assert [s.study_uid for s in found] == [STUDY]
    partition = adapters.index.series_partition(STUDY, SERIES_A)
    assert partition is not None
    assert partition[0].attrs["00080060"]["Value"] == ["MR"]


def test_replace_of_an_absent_instance_creates_it(adapters: Adapters) -> None:
    e = entry(STUDY, SERIES_A, u(1, 1, 1))
    assert adapters.index.add_instance(e, replace=True).outcome is AddOutcome.CREATED
    adapters.index.add_instance(entry(STUDY, SERIES_B, u(1, 2, 1)), replace=True)
    study = adapters.index.get_study(STUDY)
    assert study is not None
    assert (study.series_count, study.instance_count) == (2, 2)
    assert adapters.index.get_instance(STUDY, SERIES_A, u(1, 1, 1)) == e.instance


def test_revision_changes_on_every_add_to_its_series(adapters: Adapters) -> None:
    seen = []
    for n in range(1, 4):
        adapters.index.add_instance(entry(STUDY, SERIES_A, u(1, 1, n)), replace=False)
        seen.append(revision(adapters))
    assert len(set(seen)) == 3
    adapters.index.add_instance(entry(STUDY, SERIES_B, u(1, 2, 1)), replace=False)
    assert revision(adapters) == seen[-1], "another series' add leaves this revision alone"


def test_modalities_and_sop_classes_are_aggregated_per_study(adapters: Adapters) -> None:
    adapters.index.add_instance(entry(STUDY, SERIES_A, u(1, 1, 1)), replace=False)
    adapters.index.add_instance(
        entry(STUDY, SERIES_B, u(1, 2, 1), modality="MR", sop_class=MR_IMAGE), replace=False
    )
    adapters.index.add_instance(
        entry(STUDY, u(1, 3), u(1, 3, 1), modality="", sop_class=BASIC_TEXT_SR), replace=False
    )
    study = adapters.index.get_study(STUDY)
    assert study is not None
    assert study.modalities == ("CT", "MR")
    assert study.sop_classes == tuple(sorted((CT_IMAGE, MR_IMAGE, BASIC_TEXT_SR)))


def test_first_instance_defines_study_and_series_attributes(adapters: Adapters) -> None:
    first = entry(STUDY, SERIES_A, u(1, 1, 1), name="Doe^Jane")
    adapters.index.add_instance(first, replace=False)
    adapters.index.add_instance(entry(STUDY, SERIES_A, u(1, 1, 2), name="Roe^Rick"), replace=False)
    study = adapters.index.get_study(STUDY)
    assert study is not None
    assert study.attrs == first.study_attrs


def test_concurrent_writers_into_new_series_count_exactly(adapters: Adapters) -> None:
    """Writers on separate handles race to create the same series and study."""
    writers, per_writer = 6, 4
    outcomes: Counter[AddOutcome] = Counter()
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def work(w: int) -> None:
        index = adapters.open_index()
        start.wait()
        try:
            for n in range(per_writer):
                series = (SERIES_A, SERIES_B)[(w + n) % 2]
                e = entry(STUDY, series, u(1, 9, w, n))
                outcomes[index.add_instance(e, replace=False).outcome] += 1
                # every writer also stores one shared instance: exactly one may create it
                shared = entry(STUDY, SERIES_A, u(1, 9, 99))
                outcomes[index.add_instance(shared, replace=False).outcome] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    total = writers * per_writer + 1
    assert outcomes[AddOutcome.CREATED] == total
    partition = adapters.index.study_partition(STUDY)
    assert partition is not None
    assert len(partition.instances) == total
    assert (partition.study.series_count, partition.study.instance_count) == (2, total)
    per_series = Counter(i.series_uid for i in partition.instances)
    assert {s.series_uid: s.instance_count for s in partition.series} == dict(per_series)
