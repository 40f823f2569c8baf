"""Ingest and the duplicate policy (DESIGN.md §6; PS3.18 §10.5) on the embedded backend.

A "different object under the same UIDs" is the same instance re-encoded with one
non-UID attribute changed, so the UIDs (and the object key) are equal but the bytes differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from pydicom.uid import generate_uid

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.keys import instance_key
from cloudpacs.model import AddResult, IndexEntry, InstanceRecord
from cloudpacs.runtime import Services
from cloudpacs.services.ingest import StoreStatus

from .dicom_json import tag
from .instances import instance

INSTANCE_NUMBER = tag("InstanceNumber")


def uids() -> tuple[str, str, str]:
    return generate_uid(), generate_uid(), generate_uid()


def stored_objects(services: Services) -> list[str]:
    return list(services.blobs.list_keys("studies/"))


def indexed(services: Services, study: str, series: str, sop: str) -> InstanceRecord:
    rec = services.index.get_instance(study, series, sop)
    assert rec is not None
    return rec


def test_store_writes_the_object_as_received_and_indexes_it(services: Services) -> None:
    study, series, sop = uids()
    data = instance(study, series, sop, InstanceNumber=4)
    outcome = services.ingest.store(data)
    assert outcome.status is StoreStatus.STORED and outcome.ok
    assert (outcome.study_uid, outcome.series_uid, outcome.sop_uid) == (study, series, sop)
    assert services.blobs.get(instance_key(study, series, sop)) == data
    rec = indexed(services, study, series, sop)
    assert outcome.record is not None
    assert rec.sha256 == outcome.record.sha256 == hashlib.sha256(data).hexdigest()
    assert rec.attrs[INSTANCE_NUMBER]["Value"] == [4]


def test_storing_the_same_bytes_again_is_idempotent(services: Services) -> None:
    """DESIGN.md §6: "Storing the same instance twice is idempotent"."""
    study, series, sop = uids()
    data = instance(study, series, sop)
    first = services.ingest.store(data)
    before = indexed(services, study, series, sop)
    again = services.ingest.store(data)
    assert first.status is StoreStatus.STORED
    assert again.status is StoreStatus.ALREADY_STORED and again.ok
    assert indexed(services, study, series, sop) == before  # not even re-indexed
    assert stored_objects(services) == [instance_key(study, series, sop)]
    study_record = services.index.get_study(study)
    assert study_record is not None and study_record.instance_count == 1


@pytest.mark.parametrize("policy", ["reject", "ignore", "replace"])
def test_the_same_bytes_are_idempotent_under_every_policy(
    make_services: Callable[..., Services], policy: str
) -> None:
    services = make_services(duplicate_policy=policy)
    data = instance()
    assert services.ingest.store(data).status is StoreStatus.STORED
    assert services.ingest.store(data).status is StoreStatus.ALREADY_STORED


def test_reject_keeps_the_stored_object(make_services: Callable[..., Services]) -> None:
    """PS3.7 C.4.2 "Duplicate SOP Instance" (0111H): a different object under a stored SOP
    Instance UID fails, and nothing stored changes."""
    services = make_services(duplicate_policy="reject")
    study, series, sop = uids()
    original = instance(study, series, sop, InstanceNumber=1)
    other = instance(study, series, sop, InstanceNumber=2)
    services.ingest.store(original)
    before = indexed(services, study, series, sop)
    outcome = services.ingest.store(other)
    assert outcome.status is StoreStatus.FAILED
    assert (outcome.failure_reason, outcome.conflict) == (0x0111, True)
    assert outcome.sop_uid == sop and "already stored" in outcome.message
    assert services.blobs.get(instance_key(study, series, sop)) == original
    assert indexed(services, study, series, sop) == before


def test_ignore_keeps_the_stored_object_with_a_warning(
    make_services: Callable[..., Services],
) -> None:
    """PS3.18 Annex I.2.1 warning B006 "Elements Discarded": the request succeeds, the
    stored object stays."""
    services = make_services(duplicate_policy="ignore")
    study, series, sop = uids()
    original = instance(study, series, sop, InstanceNumber=1)
    services.ingest.store(original)
    before = indexed(services, study, series, sop)
    outcome = services.ingest.store(instance(study, series, sop, InstanceNumber=2))
    assert outcome.status is StoreStatus.IGNORED and outcome.ok
    assert outcome.warning_reason == 0xB006
    assert services.blobs.get(instance_key(study, series, sop)) == original
    assert indexed(services, study, series, sop) == before


def test_replace_swaps_object_and_index_entry(make_services: Callable[..., Services]) -> None:
    seen: list[StoreStatus] = []
    services = make_services(duplicate_policy="replace")
    services.ingest.on_stored.append(lambda rec, status: seen.append(status))
    study, series, sop = uids()
    services.ingest.store(instance(study, series, sop, InstanceNumber=1))
    newer = instance(study, series, sop, InstanceNumber=2)
    outcome = services.ingest.store(newer)
    assert outcome.status is StoreStatus.REPLACED
    assert services.blobs.get(instance_key(study, series, sop)) == newer
    rec = indexed(services, study, series, sop)
    assert rec.attrs[INSTANCE_NUMBER]["Value"] == [2]
    assert rec.size == len(newer)
    study_record = services.index.get_study(study)
    assert study_record is not None
    assert (study_record.series_count, study_record.instance_count) == (1, 1)
    assert seen == [StoreStatus.STORED, StoreStatus.REPLACED]


def test_a_study_mismatch_writes_nothing(services: Services) -> None:
    """PS3.18 §10.5.1: storing into /studies/{study} an instance of another study fails with
    A900 ("Data Set does not match SOP Class" family, a conflict) and writes nothing."""
    study, series, sop = uids()
    target = generate_uid()
    outcome = services.ingest.store(instance(study, series, sop), expected_study=target)
    assert outcome.status is StoreStatus.FAILED
    assert (outcome.failure_reason, outcome.conflict) == (0xA900, True)
    assert study in outcome.message and target in outcome.message
    assert stored_objects(services) == []
    assert services.index.get_study(study) is None
    assert services.index.get_study(target) is None


def test_matching_expected_study_is_stored(services: Services) -> None:
    study, series, sop = uids()
    outcome = services.ingest.store(instance(study, series, sop), expected_study=study)
    assert outcome.status is StoreStatus.STORED


@pytest.mark.parametrize("data", [b"", b"\x00" * 200, b"not dicom"])
def test_unreadable_bytes_fail_without_writing(services: Services, data: bytes) -> None:
    outcome = services.ingest.store(data)
    assert outcome.status is StoreStatus.FAILED
    assert (outcome.failure_reason, outcome.sop_uid) == (0xC000, None)
    assert "DICOM" in outcome.message
    assert stored_objects(services) == []


def test_an_unindexed_copy_of_the_same_bytes_is_indexed(services: Services) -> None:
    """DESIGN.md §6: a crash between object write and index write leaves an object without
    an index entry; storing the instance again repairs it."""
    study, series, sop = uids()
    data = instance(study, series, sop)
    key = instance_key(study, series, sop)
    services.blobs.put(key, data, sha256=hashlib.sha256(data).hexdigest(), overwrite=False)
    assert services.ingest.store(data).status is StoreStatus.STORED
    assert indexed(services, study, series, sop).size == len(data)


def test_an_unindexed_different_object_is_replaced(services: Services) -> None:
    """An object nobody indexed is not a stored instance: the new object takes its key."""
    study, series, sop = uids()
    key = instance_key(study, series, sop)
    services.blobs.put(key, b"left over", sha256="0" * 64, overwrite=False)
    data = instance(study, series, sop)
    assert services.ingest.store(data).status is StoreStatus.STORED
    assert services.blobs.get(key) == data


class FailingIndex:
    """The real index, except that ``add_instance`` fails (a lost connection, throttling)."""

    def __init__(self, index: Any) -> None:
        self._index = index

    def add_instance(self, entry: IndexEntry, *, replace: bool) -> AddResult:
        raise ConnectionError("index unavailable")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


def test_an_index_failure_is_a_processing_failure(services: Services) -> None:
    """PS3.18 Annex I.2.2 0110 "Processing failure"; the object stays unindexed (DESIGN.md
    §6: never an index entry without its object) and a later store completes it."""
    study, series, sop = uids()
    data = instance(study, series, sop)
    services.ingest.index = FailingIndex(services.index)  # type: ignore[assignment]
    outcome = services.ingest.store(data)
    assert outcome.status is StoreStatus.FAILED
    assert (outcome.failure_reason, outcome.conflict) == (0x0110, False)
    assert services.index.get_instance(study, series, sop) is None
    services.ingest.index = services.index
    assert services.ingest.store(data).status is StoreStatus.STORED


def test_a_failed_replace_leaves_the_stored_object_and_its_entry(
    make_services: Callable[..., Services],
) -> None:
    """DESIGN.md §6 "Nothing is half-written": when the index cannot take the replacing
    entry, the object under the key is still the one the index describes (its checksum,
    header length and frame offsets)."""
    services = make_services(duplicate_policy="replace")
    study, series, sop = uids()
    original = instance(study, series, sop, InstanceNumber=1)
    services.ingest.store(original)
    before = indexed(services, study, series, sop)
    services.ingest.index = FailingIndex(services.index)  # type: ignore[assignment]
    outcome = services.ingest.store(
        instance(study, series, sop, InstanceNumber=2, PatientID="X" * 60)
    )
    assert outcome.status is StoreStatus.FAILED and outcome.failure_reason == 0x0110
    assert indexed(services, study, series, sop) == before
    key = instance_key(study, series, sop)
    assert services.blobs.get(key) == original
    info = services.blobs.head(key)
    assert info is not None and info.sha256 == before.sha256


class RacingIndex:
    """The real index, where another writer indexes ``entry`` just before our own write."""

    def __init__(self, index: Any, entry: IndexEntry) -> None:
        self._index = index
        self._entry = entry

    def add_instance(self, entry: IndexEntry, *, replace: bool) -> AddResult:
        self._index.add_instance(self._entry, replace=False)
        return self._index.add_instance(entry, replace=replace)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


def test_two_writers_of_different_objects_leave_one_consistent_instance(
    services: Services,
) -> None:
    """Two requests store different objects under the same UIDs at the same time. The first
    has written its object but not yet indexed it when the second finds that object; the
    first then indexes it. Whoever loses, the stored object must be the one the index entry
    describes (DESIGN.md §6), and the first writer's object must not be lost."""
    study, series, sop = uids()
    first = instance(study, series, sop, InstanceNumber=1)
    second = instance(study, series, sop, InstanceNumber=2)
    key = instance_key(study, series, sop)
    first_entry = parse_instance(first).entry
    services.blobs.put(key, first, sha256=first_entry.instance.sha256, overwrite=False)
    services.ingest.index = RacingIndex(services.index, first_entry)  # type: ignore[assignment]
    outcome = services.ingest.store(second)
    assert outcome.status is StoreStatus.FAILED and outcome.failure_reason == 0x0111
    rec = indexed(services, study, series, sop)
    assert rec.sha256 == first_entry.instance.sha256
    assert services.blobs.get(key) == first
