"""Index reads: records by key, partitions, batch reads and locating by UID."""

from __future__ import annotations

from cloudpacs.model import IndexEntry

from .conftest import Adapters
from .records import entry
from .records import uid as u

STUDY = u(2)
SERIES = u(2, 1)
SERIES_LONGER = u(2, 12)
"""Its key starts with SERIES's UID: a series read must not pick up its instances."""


def fill(adapters: Adapters) -> list[IndexEntry]:
    entries = [
        entry(STUDY, SERIES, u(2, 1, 1)),
        entry(STUDY, SERIES, u(2, 1, 2)),
        entry(STUDY, SERIES_LONGER, u(2, 12, 1), modality="MR"),
        entry(u(3), u(3, 1), u(3, 1, 1)),
    ]
    for e in entries:
        adapters.index.add_instance(e, replace=False)
    return entries


def test_absent_records_read_as_none(adapters: Adapters) -> None:
    fill(adapters)
    index = adapters.index
    assert index.get_study(u(9)) is None
    assert index.get_instance(STUDY, SERIES, u(9)) is None
    assert index.get_instance(STUDY, u(9), u(2, 1, 1)) is None
    assert index.study_partition(u(9)) is None
    assert index.series_partition(STUDY, u(9)) is None
    assert index.series_partition(u(9), SERIES) is None
    assert index.get_studies([u(9), u(8)]) == []


def test_study_partition_holds_the_study_its_series_and_instances(adapters: Adapters) -> None:
    entries = fill(adapters)
    partition = adapters.index.study_partition(STUDY)
    assert partition is not None
    assert partition.study == adapters.index.get_study(STUDY)
    assert sorted(s.series_uid for s in partition.series) == sorted([SERIES, SERIES_LONGER])
    assert all(s.study_uid == STUDY for s in partition.series)
    mine = sorted((e.instance for e in entries[:3]), key=lambda r: r.sop_uid)
    assert sorted(partition.instances, key=lambda r: r.sop_uid) == mine


def test_series_partition_is_exactly_one_series(adapters: Adapters) -> None:
    entries = fill(adapters)
    found = adapters.index.series_partition(STUDY, SERIES)
    assert found is not None
    series, instances = found
    assert series.series_uid == SERIES
    assert series.attrs == entries[0].series_attrs
    assert series.instance_count == 2
    assert sorted(instances, key=lambda r: r.sop_uid) == [entries[0].instance, entries[1].instance]
    longer = adapters.index.series_partition(STUDY, SERIES_LONGER)
    assert longer is not None
    assert [i.sop_uid for i in longer[1]] == [u(2, 12, 1)]


def test_get_studies_skips_absent_ones(adapters: Adapters) -> None:
    fill(adapters)
    found = adapters.index.get_studies([u(3), u(9), STUDY])
    assert sorted(s.study_uid for s in found) == sorted([u(3), STUDY])
    assert {s.study_uid: s for s in found}[STUDY] == adapters.index.get_study(STUDY)


def test_get_studies_reads_more_than_one_batch(adapters: Adapters) -> None:
    uids = [u(4, n) for n in range(101)]
    for n, study in enumerate(uids):
        adapters.index.add_instance(entry(study, u(4, n, 1), u(4, n, 1, 1)), replace=False)
    found = adapters.index.get_studies(uids)
    assert sorted(s.study_uid for s in found) == sorted(uids)


def test_locate_series_and_instance(adapters: Adapters) -> None:
    fill(adapters)
    index = adapters.index
    assert index.locate_series(SERIES) == STUDY
    assert index.locate_series(SERIES_LONGER) == STUDY
    assert index.locate_series(u(3, 1)) == u(3)
    assert index.locate_series(u(9)) is None
    assert index.locate_instance(u(2, 12, 1)) == (STUDY, SERIES_LONGER)
    assert index.locate_instance(u(3, 1, 1)) == (u(3), u(3, 1))
    assert index.locate_instance(u(9)) is None
