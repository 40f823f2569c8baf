"""BlobStore on the local file system (the embedded default).

Objects are written to a temporary file in the destination folder, flushed, and renamed
into place, so a reader never sees a half-written object. ``overwrite=False`` uses a hard
link, which fails atomically when the key exists. The SHA-256 recorded at ``put`` is kept
in a small side file so ``head`` can report it without re-hashing.

Group commit: writers storing into the same folder at the same time (the parts of one
STOW-RS request, a series arriving over DIMSE) share the folder's flush. A writer's new name
is durable once a flush of its folder has *started* after the name was linked; one writer
flushes for every writer waiting on that folder, the others wait for that flush instead
of each issuing their own (``FolderSync``).

Reads for sending (``get_buffer``) map files of ``MAP_FROM_BYTES`` or more instead of copying
them: the page cache's pages go to the socket as they are. Every page is read in when the file
is mapped (``MADV_POPULATE_READ``, Linux 5.14+), which reports a failing disk as an error;
where that is not available, or the mapping fails (no file descriptor left: each live mapping
holds one), the file is read as ``get`` reads it. Files are never changed in place (a new
version is renamed over the old, a delete unlinks), so a mapping keeps the bytes it was made
with.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mmap
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from cloudpacs.ports import BlobExists, BlobInfo, BlobNotFound

_CHECKSUM_ATTR = "user.cloudpacs.sha256"
MAP_FROM_BYTES = 256 << 10
"""Objects from this size are mapped rather than copied by ``get_buffer``."""
_MADV_POPULATE_READ = 22
"""Linux's madvise advice that reads every page in now, or fails (``mmap`` has no name for it
before Python 3.13)."""


class FileBlobStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._folders: dict[Path, FolderSync] = {}
        self._folders_lock = threading.Lock()

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"unsafe blob key {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes, *, sha256: str, overwrite: bool) -> None:
        path = self._path(key)
        fd, tmp_name = _temporary_in(path.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if self.fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
            _set_checksum(tmp, sha256)
            if overwrite:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    raise BlobExists(key) from None
        finally:
            tmp.unlink(missing_ok=True)
        if self.fsync:
            self._folder_sync(path.parent).sync()

    def _folder_sync(self, folder: Path) -> FolderSync:
        with self._folders_lock:
            found = self._folders.get(folder)
            if found is None:
                if len(self._folders) > 1024:
                    self._folders.clear()  # forget idle folders; a new one is made on use
                found = self._folders[folder] = FolderSync(folder)
            return found

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def get_buffer(self, key: str) -> bytes | memoryview:
        try:
            with open(self._path(key), "rb") as fh:
                if os.fstat(fh.fileno()).st_size >= MAP_FROM_BYTES:
                    mapped = _populated_map(fh.fileno())
                    if mapped is not None:
                        return mapped
                return fh.read()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            with open(self._path(key), "rb") as fh:
                fh.seek(offset)
                return fh.read(length)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        return _read_chunks(path, chunk_size)

    def head(self, key: str) -> BlobInfo | None:
        path = self._path(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        try:
            sha = os.getxattr(path, _CHECKSUM_ATTR).decode()
        except OSError:
            try:
                with open(path, "rb") as fh:
                    sha = hashlib.file_digest(fh, "sha256").hexdigest()
            except FileNotFoundError:
                return None
        return BlobInfo(size=size, sha256=sha)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        _prune_empty_parents(path.parent, self.root)

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        if base.is_file():
            yield prefix
            return
        for dirpath, _dirs, files in os.walk(base):
            for name in sorted(files):
                if name.startswith(".tmp-"):
                    continue
                yield Path(dirpath, name).relative_to(self.root).as_posix()

    def presigned_get_url(self, key: str, expires_in: int) -> str | None:
        return None


_populate_unsupported = False


def _populated_map(fd: int) -> memoryview | None:
    """The file mapped read-only with every page read in, or None: read it instead."""
    global _populate_unsupported
    if _populate_unsupported:
        return None
    try:
        mapped = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
    except OSError:
        return None
    try:
        mapped.madvise(_MADV_POPULATE_READ)
    except OSError as exc:
        mapped.close()
        if exc.errno == errno.EINVAL:  # a kernel before 5.14, or not Linux
            _populate_unsupported = True
        return None
    return memoryview(mapped)


class FolderSync:
    """Flushes one folder's entries on behalf of every writer waiting for it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cond = threading.Condition()
        self._requested = 0
        self._done = 0
        self._running = False

    def sync(self) -> None:
        """Return once a flush of the folder that started after this call has finished."""
        with self._cond:
            self._requested += 1
            ticket = self._requested
            while self._done < ticket:
                if self._running:
                    self._cond.wait()
                    continue
                self._running = True
                covered = self._requested
                try:
                    self._cond.release()
                    try:
                        _fsync_folder(self.folder)
                    finally:
                        self._cond.acquire()
                finally:
                    self._running = False
                    self._cond.notify_all()
                self._done = covered


def _fsync_folder(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _set_checksum(path: Path, sha256: str) -> None:
    # Without extended attributes on this file system, head() hashes the file instead.
    with contextlib.suppress(OSError):
        os.setxattr(path, _CHECKSUM_ATTR, sha256.encode())


def _read_chunks(path: Path, chunk_size: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            yield chunk


FOLDER_ATTEMPTS = 5


def _temporary_in(folder: Path) -> tuple[int, str]:
    """A new temporary file in ``folder``, made with its parents if missing.

    A ``delete`` of the folder's last object removes the emptied folders
    (``_prune_empty_parents``); one that does so between our making the folder and the file
    in it fails the making (``FileExistsError`` from ``mkdir`` finding it gone when it checks,
    ``FileNotFoundError`` from the file): make them again. Once the file is in the folder, a
    prune no longer removes it.
    """
    for attempt in range(FOLDER_ATTEMPTS):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except (FileExistsError, FileNotFoundError):
            if attempt == FOLDER_ATTEMPTS - 1 or (folder.exists() and not folder.is_dir()):
                raise
    raise AssertionError("unreachable")


def _prune_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
