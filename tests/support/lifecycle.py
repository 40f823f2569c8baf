"""Studies that look stored long ago, for the retention tests."""

from __future__ import annotations

import dataclasses

from cloudpacs.model import IndexEntry
from cloudpacs.ports import Index

LONG_AGO = "2020-01-01T00:00:00.000+00:00"


def backdate(index: Index, study: str, stored_at: str = LONG_AGO) -> None:
    """Make ``study`` look stored at ``stored_at``: its instances indexed again with that time."""
    partition = index.study_partition(study)
    assert partition is not None
    series = {s.series_uid: s for s in partition.series}
    for record in partition.instances:
        entry = IndexEntry(
            study_attrs=partition.study.attrs,
            series_attrs=series[record.series_uid].attrs,
            instance=dataclasses.replace(record, stored_at=stored_at),
            modality="CT",
        )
        index.add_instance(entry, replace=True)
