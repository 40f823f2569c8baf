"""Metadata read while a delete runs, on both backends: the index was read before the objects
went, so an instance whose object is gone is left out, and a scope whose objects are all gone
answers 404, never a server error."""

from __future__ import annotations

import json

import pytest

from cloudpacs.errors import NotFound
from cloudpacs.keys import instance_key, series_metadata_key
from cloudpacs.runtime import build_services
from cloudpacs.settings import load_settings
from tests.support.synthetic import ct_instance

from .conftest import Adapters

SOP = "00080018"


def test_objects_deleted_after_the_index_read_are_left_out(adapters: Adapters) -> None:
    services = build_services(load_settings(fsync=False), backend=(adapters.index, adapters.blobs))
    study, series = "1.2.826.0.1.77.1", ("1.2.826.0.1.77.1.1", "1.2.826.0.1.77.1.2")
    for n in range(4):
        assert services.ingest.store(ct_instance(study, series[n % 2], n + 1, rows=8, columns=8)).ok
    retrieve = services.retrieve
    scope = retrieve.metadata_scope(study)
    records = [r for _, members in scope.parts for r in members]
    gone = records[0]
    services.blobs.delete(instance_key(gone.study_uid, gone.series_uid, gone.sop_uid))

    items = json.loads(retrieve.metadata_of(scope))
    assert sorted(i[SOP]["Value"][0] for i in items) == sorted(
        r.sop_uid for r in records if r is not gone
    )
    for rec in records:  # what the delete service removes: objects, then the series caches
        services.blobs.delete(instance_key(rec.study_uid, rec.series_uid, rec.sop_uid))
    for uid in series:
        services.blobs.delete(series_metadata_key(study, uid))
    with pytest.raises(NotFound):
        retrieve.metadata_of(scope)
    sop_scope = retrieve.metadata_scope(study, gone.series_uid, records[1].sop_uid)
    with pytest.raises(NotFound):
        retrieve.metadata_of(sop_scope)
