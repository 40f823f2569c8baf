"""The repair sweep finds both inconsistencies a crash can leave (DESIGN.md §6), on both
backends."""

from __future__ import annotations

import hashlib

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.keys import instance_key
from cloudpacs.runtime import build_services
from cloudpacs.services.repair import RepairService
from cloudpacs.settings import load_settings
from tests.support.synthetic import ct_study

from .conftest import Adapters


def test_sweep_indexes_unindexed_objects_and_drops_dangling_entries(adapters: Adapters) -> None:
    services = build_services(load_settings(fsync=False), backend=(adapters.index, adapters.blobs))
    _, objects = ct_study(3, rows=8, columns=8)
    stored, unindexed, lost = (parse_instance(o) for o in objects)
    assert services.ingest.store(stored.data).ok
    # a crash after the object was written but before it was indexed
    key = instance_key(
        unindexed.record.study_uid, unindexed.record.series_uid, unindexed.record.sop_uid
    )
    services.blobs.put(key, unindexed.data, sha256=unindexed.record.sha256, overwrite=False)
    # an index entry whose object is gone
    assert services.ingest.store(lost.data).ok
    lost_key = instance_key(lost.record.study_uid, lost.record.series_uid, lost.record.sop_uid)
    services.blobs.delete(lost_key)
    services.blobs.put(
        "studies/1.2/series/3.4/instances/5.6.dcm",
        b"junk",
        sha256=hashlib.sha256(b"junk").hexdigest(),
        overwrite=False,
    )

    repair = RepairService(services.index, services.blobs)
    dry = repair.sweep(fix=False)
    assert dry.indexed == [key]
    assert dry.dangling == [lost_key]
    assert dry.unreadable == ["studies/1.2/series/3.4/instances/5.6.dcm"]

    fixed = repair.sweep(fix=True)
    assert fixed.indexed == [key] and fixed.dangling == [lost_key]
    study = services.index.get_study(stored.record.study_uid)
    assert study is not None and study.instance_count == 2
    again = repair.sweep(fix=True)
    assert again.indexed == [] and again.dangling == []
