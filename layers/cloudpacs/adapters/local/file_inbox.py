"""Inbox in a local folder: the embedded server's stand-in for the S3 inbox bucket.

It hands out the same kind of targets as ``S3Inbox``, so clients use one upload flow: URLs
relative to the DICOMweb root (``uploads/{id}/content?...``; the API makes them absolute)
that accept ``PUT`` of the whole object, or ``PUT ?partNumber=&uploadId=`` per part and
``POST ?uploadId=`` with S3's ``CompleteMultipartUpload`` XML. Each URL carries an expiry and
an HMAC-SHA256 signature under a key held only by this process, so like a presigned URL it
needs no other credentials and cannot be altered or reused after it expires.

A finished object is written atomically (temporary file, then rename) and reported to
``on_created``, which the runtime points at the in-process ingest worker.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlencode

from cloudpacs.errors import BadRequest, Forbidden, NotFound
from cloudpacs.ports import BlobNotFound
from cloudpacs.services.uploads_model import UploadPart, UploadTarget, inbox_key, upload_id_of

_PART = re.compile(
    rb"<Part>\s*(?:<PartNumber>(\d+)</PartNumber>\s*<ETag>([^<]+)</ETag>"
    rb"|<ETag>([^<]+)</ETag>\s*<PartNumber>(\d+)</PartNumber>)\s*</Part>"
)


class FileInbox:
    def __init__(self, root: Path, *, fsync: bool = False) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._secret = secrets.token_bytes(32)
        self.on_created: Callable[[str], None] | None = None

    # -- the port ------------------------------------------------------------------------
    def targets(
        self, key: str, size: int | None, *, part_bytes: int, expires_in: int
    ) -> UploadTarget:
        upload_id = _upload_id(key)
        expires = int(time.time()) + expires_in
        if size is None or size <= part_bytes:
            return UploadTarget(url=self._url(upload_id, "PUT", expires))
        multipart_id = secrets.token_hex(8)
        self._parts_dir(upload_id, multipart_id).mkdir(parents=True)
        parts = tuple(
            UploadPart(n, self._url(upload_id, "PUT", expires, multipart_id, n))
            for n in range(1, math.ceil(size / part_bytes) + 1)
        )
        return UploadTarget(
            part_size=part_bytes,
            parts=parts,
            complete_url=self._url(upload_id, "POST", expires, multipart_id),
            multipart_id=multipart_id,
        )

    def read(self, key: str) -> bytes:
        try:
            return self._object(_upload_id(key)).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def delete(self, key: str) -> None:
        self._object(_upload_id(key)).unlink(missing_ok=True)

    # -- the signed endpoints ---------------------------------------------------------
    def check(
        self,
        method: str,
        upload_id: str,
        *,
        expires: str,
        signature: str,
        multipart_id: str | None = None,
        part: int | None = None,
    ) -> None:
        """Refuse (403) a request whose URL this inbox did not sign or that has expired."""
        if not expires.isdigit() or int(expires) < time.time():
            raise Forbidden("the upload URL has expired; create the upload again")
        wanted = self._sign(method, upload_id, int(expires), multipart_id, part)
        if not hmac.compare_digest(wanted, signature):
            raise Forbidden("the upload URL's signature does not match")

    def write(self, upload_id: str, chunks: Iterable[bytes], limit: int) -> str:
        """Store the whole object; its ETag (MD5, as S3 gives for a single PUT)."""
        etag = self._write_file(self._object(upload_id), chunks, limit)
        self._created(upload_id)
        return etag

    def write_part(
        self, upload_id: str, multipart_id: str, number: int, chunks: Iterable[bytes], limit: int
    ) -> str:
        folder = self._parts_dir(upload_id, multipart_id)
        if not folder.is_dir():
            raise NotFound("no such multipart upload (completed, or never created)")
        return self._write_file(folder / f"{number:05d}", chunks, limit)

    def complete(self, upload_id: str, multipart_id: str, part_list: bytes) -> str:
        folder = self._parts_dir(upload_id, multipart_id)
        if not folder.is_dir():
            raise NotFound("no such multipart upload (completed, or never created)")
        listed = []
        for match in _PART.finditer(part_list):
            number = match.group(1) or match.group(4)
            etag = match.group(2) or match.group(3)
            listed.append((int(number), etag.decode("latin-1").strip().strip('"')))
        if not listed or [n for n, _ in listed] != sorted({n for n, _ in listed}):
            raise BadRequest("the part list must name each part once, in ascending order")
        files = []
        for number, etag in listed:
            path = folder / f"{number:05d}"
            if not path.is_file() or _md5(path) != etag:
                raise BadRequest(f"part {number} was not uploaded or its ETag differs")
            files.append(path)
        self._write_file(self._object(upload_id), _concat(files), limit=None)
        shutil.rmtree(folder, ignore_errors=True)
        self._created(upload_id)
        return f"{upload_id}-{len(files)}"

    # -- internals -------------------------------------------------------------------------
    def _object(self, upload_id: str) -> Path:
        return self.root / inbox_key(upload_id)

    def _parts_dir(self, upload_id: str, multipart_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{16}", multipart_id):
            raise NotFound("no such multipart upload")
        return self.root / ".multipart" / upload_id / multipart_id

    def _sign(
        self, method: str, upload_id: str, expires: int, multipart_id: str | None, part: int | None
    ) -> str:
        message = f"{method}\n{upload_id}\n{multipart_id or ''}\n{part or ''}\n{expires}"
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def _url(
        self,
        upload_id: str,
        method: str,
        expires: int,
        multipart_id: str | None = None,
        part: int | None = None,
    ) -> str:
        query: dict[str, str | int] = {}
        if part is not None:
            query["partNumber"] = part
        if multipart_id is not None:
            query["uploadId"] = multipart_id
        query["expires"] = expires
        query["signature"] = self._sign(method, upload_id, expires, multipart_id, part)
        return f"uploads/{upload_id}/content?{urlencode(query)}"

    def _write_file(self, path: Path, chunks: Iterable[bytes], limit: int | None) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.md5(usedforsecurity=False)
        written = 0
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    written += len(chunk)
                    if limit is not None and written > limit:
                        raise BadRequest(f"the upload exceeds its limit of {limit} bytes")
                    digest.update(chunk)
                    fh.write(chunk)
                if self.fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp_name, path)
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        return digest.hexdigest()

    def _created(self, upload_id: str) -> None:
        if self.on_created is not None:
            self.on_created(inbox_key(upload_id))


def _upload_id(key: str) -> str:
    upload_id = upload_id_of(key)
    if upload_id is None:
        raise ValueError(f"not an inbox key: {key!r}")
    return upload_id


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _concat(files: list[Path]) -> Iterable[bytes]:
    for path in files:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk
