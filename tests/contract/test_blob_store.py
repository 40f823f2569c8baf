"""BlobStore: conditional puts, whole/ranged/streamed reads, checksums, deletes, listing."""

from __future__ import annotations

import hashlib
import os

import pytest

from cloudpacs.keys import instance_key, study_prefix
from cloudpacs.ports import BlobExists, BlobNotFound

from .conftest import Adapters
from .records import uid as u

KEY = instance_key(u(30), u(30, 1), u(30, 1, 1))
DATA = os.urandom(300_000)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_then_read_back(adapters: Adapters) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=False)
    assert adapters.blobs.get(KEY) == DATA
    info = adapters.blobs.head(KEY)
    assert info is not None
    assert (info.size, info.sha256) == (len(DATA), sha(DATA))


def test_put_without_overwrite_refuses_an_existing_key(adapters: Adapters) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=False)
    other = b"another object"
    with pytest.raises(BlobExists):
        adapters.blobs.put(KEY, other, sha256=sha(other), overwrite=False)
    assert adapters.blobs.get(KEY) == DATA
    info = adapters.blobs.head(KEY)
    assert info is not None
    assert info.sha256 == sha(DATA)


def test_put_with_overwrite_replaces(adapters: Adapters) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=False)
    other = b"another object"
    adapters.blobs.put(KEY, other, sha256=sha(other), overwrite=True)
    assert adapters.blobs.get(KEY) == other
    info = adapters.blobs.head(KEY)
    assert info is not None
    assert (info.size, info.sha256) == (len(other), sha(other))


def test_overwrite_of_an_absent_key_creates_it(adapters: Adapters) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=True)
    assert adapters.blobs.get(KEY) == DATA


@pytest.mark.parametrize("size", [0, 1000, 300_000])
def test_get_buffer_holds_the_object_as_stored(adapters: Adapters, size: int) -> None:
    data = DATA[:size]
    adapters.blobs.put(KEY, data, sha256=sha(data), overwrite=False)
    assert bytes(adapters.blobs.get_buffer(KEY)) == data


def test_a_buffer_keeps_its_bytes_when_the_object_is_replaced_or_deleted(
    adapters: Adapters,
) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=False)
    held = adapters.blobs.get_buffer(KEY)
    other = os.urandom(len(DATA))
    adapters.blobs.put(KEY, other, sha256=sha(other), overwrite=True)
    assert bytes(held) == DATA
    adapters.blobs.delete(KEY)
    assert bytes(held) == DATA
    with pytest.raises(BlobNotFound):
        adapters.blobs.get_buffer(KEY)


def test_get_range_reads_the_bytes_asked_for(adapters: Adapters) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=False)
    assert adapters.blobs.get_range(KEY, 0, 10) == DATA[:10]
    assert adapters.blobs.get_range(KEY, 123_456, 7_890) == DATA[123_456 : 123_456 + 7_890]
    assert adapters.blobs.get_range(KEY, len(DATA) - 5, 5) == DATA[-5:]
    assert adapters.blobs.get_range(KEY, len(DATA) - 5, 50) == DATA[-5:], "short at the end"
    assert adapters.blobs.get_range(KEY, len(DATA) + 10, 5) == b"", "nothing beyond the end"


def test_iter_chunks_streams_the_whole_object(adapters: Adapters) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=False)
    chunks = list(adapters.blobs.iter_chunks(KEY, chunk_size=64 * 1024))
    assert b"".join(chunks) == DATA
    assert len(chunks) >= 5
    assert all(len(c) <= 64 * 1024 for c in chunks)


def test_absent_objects(adapters: Adapters) -> None:
    missing = instance_key(u(30), u(30, 1), u(30, 1, 9))
    assert adapters.blobs.head(missing) is None
    with pytest.raises(BlobNotFound):
        adapters.blobs.get(missing)
    with pytest.raises(BlobNotFound):
        adapters.blobs.get_range(missing, 0, 10)
    with pytest.raises(BlobNotFound):
        list(adapters.blobs.iter_chunks(missing))


def test_delete_removes_and_tolerates_absence(adapters: Adapters) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=False)
    adapters.blobs.delete(KEY)
    assert adapters.blobs.head(KEY) is None
    with pytest.raises(BlobNotFound):
        adapters.blobs.get(KEY)
    adapters.blobs.delete(KEY)
    adapters.blobs.put(KEY, b"x", sha256=sha(b"x"), overwrite=False)
    assert adapters.blobs.get(KEY) == b"x"


def test_list_keys_under_a_prefix(adapters: Adapters) -> None:
    keys = [instance_key(u(31), u(31, s), u(31, s, n)) for s in (1, 2) for n in range(3)]
    neighbour = instance_key(u(311), u(311, 1), u(311, 1, 1))
    for k in [*keys, neighbour]:
        adapters.blobs.put(k, k.encode(), sha256=sha(k.encode()), overwrite=False)
    assert sorted(adapters.blobs.list_keys(study_prefix(u(31)))) == sorted(keys)
    assert sorted(adapters.blobs.list_keys(f"studies/{u(31)}/series/{u(31, 2)}/")) == sorted(
        keys[3:]
    )
    assert list(adapters.blobs.list_keys(study_prefix(u(39)))) == []


def test_presigned_url_names_the_object_when_offered(adapters: Adapters) -> None:
    adapters.blobs.put(KEY, DATA, sha256=sha(DATA), overwrite=False)
    url = adapters.blobs.presigned_get_url(KEY, 120)
    if adapters.name == "embedded":
        assert url is None
    else:
        assert url is not None
        assert KEY in url
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
        assert "X-Amz-Expires=120" in url
