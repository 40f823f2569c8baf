"""WADO-RS responses too large for an API Gateway / Lambda body (DESIGN.md §5, decision 0001).

Where the blob store can sign URLs (S3), a response over ``inline_limit`` bytes is answered
with a redirect to a short-lived presigned URL instead of a body:

- one instance asked for as ``application/dicom``: the stored object itself, with S3 told to
  answer ``Content-Type: application/dicom; transfer-syntax=...``;
- anything asked for as ``multipart/related`` (an instance, a series, a study): the
  multipart body is assembled once into ``responses/{study}/{day}/{digest}`` and the client is
  sent there, with S3 told to answer the multipart ``Content-Type`` and its boundary. The
  digest covers the instances (UID and SHA-256) and the transfer syntax, so a changed series
  never reuses an old body; the boundary is derived from it, so a stored body and its
  ``Content-Type`` always agree. Assembled bodies expire by a lifecycle rule on ``responses/``
  after a day; one is reused only on the day it was made, so it outlives every URL that
  points at it. Deleting anything in a study removes the study's assembled bodies.

The embedded server has no limit: it streams every response, and this class is not used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from cloudpacs.keys import instance_key
from cloudpacs.model import InstanceRecord
from cloudpacs.multipart import CRLF, closing, part_header
from cloudpacs.ports import BlobInfo
from cloudpacs.services.retrieve import RetrieveService
from cloudpacs.uids import check_uid

DICOM = "application/dicom"
RESPONSES_PREFIX = "responses/"
CHUNK_BYTES = 8 << 20


@runtime_checkable
class ResponseStaging(Protocol):
    """What a blob store needs to offer for redirected responses (``S3BlobStore`` does)."""

    def presigned_get_url(
        self, key: str, expires_in: int, *, content_type: str | None = None
    ) -> str | None: ...

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None: ...

    def head(self, key: str) -> BlobInfo | None: ...


def responses_prefix(study: str) -> str:
    check_uid(study, "StudyInstanceUID")
    return f"{RESPONSES_PREFIX}{study}/"


class LargeResponses:
    def __init__(
        self,
        store: ResponseStaging,
        retrieve: RetrieveService,
        *,
        inline_limit: int,
        expires_in: int,
    ) -> None:
        self.store = store
        self.retrieve = retrieve
        self.inline_limit = inline_limit
        self.expires_in = expires_in
        self.on_redirected: list[Callable[[int], None]] = []
        """Called with the bytes each redirect sends a client to (metrics)."""

    def too_large(self, records: list[InstanceRecord]) -> bool:
        """Whether the instances (plus multipart framing) exceed the inline limit."""
        return sum(r.size + 200 for r in records) > self.inline_limit

    def instance_url(self, rec: InstanceRecord) -> str:
        """A presigned URL of the stored object, answered as ``application/dicom``."""
        key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
        media = f"{DICOM}; transfer-syntax={rec.transfer_syntax_uid}"
        return self._sign(key, media, rec.size)

    def multipart_url(self, records: list[InstanceRecord], target: str | None) -> str:
        """A presigned URL of the multipart/related body of ``records`` (assembled if new).

        ``target``: the transfer syntax to re-encode to, None for as stored.
        """
        digest = hashlib.sha256((target or "*").encode())
        for rec in records:
            digest.update(f"\n{rec.sop_uid}:{rec.sha256}".encode())
        hexdigest = digest.hexdigest()
        boundary = f"cloudpacs-{hexdigest[:32]}"
        day = datetime.now(UTC).strftime("%Y%m%d")
        key = f"{responses_prefix(records[0].study_uid)}{day}/{hexdigest}"
        if self.store.head(key) is None:
            self.store.put_stream(key, self._body(records, target, boundary))
        media = f'multipart/related; type="{DICOM}"; boundary={boundary}'
        return self._sign(key, media, sum(r.size for r in records))

    def _sign(self, key: str, content_type: str, size: int) -> str:
        url = self.store.presigned_get_url(key, self.expires_in, content_type=content_type)
        if url is None:
            raise RuntimeError("the blob store signed no URL")
        for hook in self.on_redirected:
            hook(size)
        return url

    def _body(
        self, records: list[InstanceRecord], target: str | None, boundary: str
    ) -> Iterator[bytes]:
        for rec in records:
            syntax = target or rec.transfer_syntax_uid
            yield part_header(f"{DICOM}; transfer-syntax={syntax}", boundary)
            if target is not None:
                yield self.retrieve.converted(rec, target)
            else:
                yield from self.retrieve.chunks(rec, CHUNK_BYTES)
            yield CRLF
        yield closing(boundary)
