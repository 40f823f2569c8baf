"""The file store's reads for sending: large files mapped with every page read in, small ones
and kernels that cannot read a mapping in up front read as ``get`` reads them. And a put whose
folder a concurrent delete prunes still stores its object."""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

import pytest

from cloudpacs.adapters.local import file_store
from cloudpacs.adapters.local.file_store import MAP_FROM_BYTES, FileBlobStore

LARGE = os.urandom(MAP_FROM_BYTES + 12_345)


def _kernel_at_least(major: int, minor: int) -> bool:
    found = platform.release().split(".")
    try:
        return (int(found[0]), int(found[1].split("-")[0])) >= (major, minor)
    except (IndexError, ValueError):
        return False


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FileBlobStore:
    monkeypatch.setattr(file_store, "_populate_unsupported", False)
    blobs = FileBlobStore(tmp_path / "blobs", fsync=False)
    blobs.put("a/large", LARGE, sha256=hashlib.sha256(LARGE).hexdigest(), overwrite=False)
    blobs.put("a/small", b"small", sha256=hashlib.sha256(b"small").hexdigest(), overwrite=False)
    return blobs


@pytest.mark.skipif(
    platform.system() != "Linux" or not _kernel_at_least(5, 14),
    reason="MADV_POPULATE_READ is Linux 5.14+",
)
def test_a_large_file_is_mapped_not_copied(store: FileBlobStore) -> None:
    buffer = store.get_buffer("a/large")
    assert isinstance(buffer, memoryview)
    assert buffer.readonly
    assert buffer == LARGE


def test_a_small_file_is_read(store: FileBlobStore) -> None:
    assert store.get_buffer("a/small") == b"small"


def test_where_pages_cannot_be_read_in_up_front_files_are_read(
    store: FileBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_store, "_MADV_POPULATE_READ", 0x7FFF)  # advice the kernel refuses
    first = store.get_buffer("a/large")
    assert isinstance(first, bytes) and first == LARGE
    assert file_store._populate_unsupported
    monkeypatch.setattr(file_store, "_MADV_POPULATE_READ", 22)
    assert isinstance(store.get_buffer("a/large"), bytes)  # not tried again


def test_a_put_survives_a_delete_pruning_its_folder_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete of a folder's last object removes the folder; one that does so between the
    put's making of the folder and of its temporary file must not fail the put."""
    blobs = FileBlobStore(tmp_path / "blobs", fsync=False)
    blobs.put("s/1/a", b"a", sha256=hashlib.sha256(b"a").hexdigest(), overwrite=False)
    make_temporary = file_store.tempfile.mkstemp
    pruned = []

    def delete_first(*args: object, **kwargs: object) -> tuple[int, str]:
        if not pruned:
            pruned.append(True)
            blobs.delete("s/1/a")  # the folder's last object: s/1 and s are pruned
            assert not (tmp_path / "blobs" / "s").exists()
        return make_temporary(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(file_store.tempfile, "mkstemp", delete_first)
    blobs.put("s/1/b", b"b", sha256=hashlib.sha256(b"b").hexdigest(), overwrite=False)
    assert pruned and blobs.get("s/1/b") == b"b"
