"""The ``ingest_workers`` setting sizes the pool that stores a request's objects."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cloudpacs.model import InstanceRecord
from cloudpacs.runtime import build_services
from cloudpacs.services.ingest import StoreStatus
from cloudpacs.settings import load_settings
from tests.support.synthetic import ct_study


@pytest.mark.parametrize("workers", [1, 3])
def test_objects_are_stored_by_at_most_the_configured_workers(tmp_path: Path, workers: int) -> None:
    services = build_services(load_settings(data_dir=tmp_path, fsync=False, ingest_workers=workers))
    threads: set[str] = set()

    def note_thread(_record: InstanceRecord, _status: StoreStatus) -> None:
        threads.add(threading.current_thread().name)

    services.ingest.on_stored.append(note_thread)
    _, objects = ct_study(12, rows=8, columns=8)
    outcomes = services.ingest.store_many(objects)
    assert [o.status for o in outcomes] == [StoreStatus.STORED] * 12
    assert services.ingest.workers == workers
    if workers == 1:
        assert threads == {threading.current_thread().name}
    else:
        assert 1 <= len(threads) <= workers
        assert all(name.startswith("ingest") for name in threads)
