"""BlobStore on S3 (DESIGN.md §4): objects stored as received, with their SHA-256.

- ``put`` sends ``ChecksumSHA256``: S3 verifies the body against it (a corrupted upload is
  rejected with ``BadDigest``; moto does not verify) and keeps it as the object's checksum,
  which ``head`` reads back with ``ChecksumMode=ENABLED`` (and botocore checks whole-object
  GETs against). ``overwrite=False`` is an S3 conditional write
  (``If-None-Match: *``), atomic on the service: 412 means the key exists (``BlobExists``);
  409 ``ConditionalRequestConflict`` means a concurrent conditional write is in flight, and
  S3 asks for a retry, after which the winner's object answers 412. moto honours
  ``If-None-Match`` on ``PutObject`` (the contract tests exercise it), so there is no
  head-then-put fallback.
- ``get_range`` is one ranged GET. Like a file read, it returns fewer bytes at the end of
  the object and ``b""`` from beyond it (S3 answers 416 there).
- ``presigned_get_url`` signs with the client's credentials; the URL is valid for
  ``expires_in`` seconds or until those (possibly temporary) credentials expire.
- ``put_stream`` writes an object assembled on the fly (the WADO responses too large to
  answer inline, ``services.large_responses``), as a multipart upload when it is large.
- ``head`` returns ``sha256=None`` for objects without a whole-object SHA-256 (e.g. a
  multipart upload, whose checksum is a checksum of part checksums).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudpacs.ports import BlobExists, BlobInfo, BlobNotFound

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
SIGV4 = Config(signature_version="s3v4")
"""Presigned URLs must be SigV4: objects encrypted with a KMS key refuse older signatures.
A client handed to ``S3BlobStore`` should be configured the same way."""
CONFLICT_RETRIES = 5
STREAM_PART = 16 << 20
"""Part size of ``put_stream`` (S3 parts are at least 5 MiB, except the last)."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def sha256_hex_to_b64(sha256: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


def sha256_b64_to_hex(value: str | None) -> str | None:
    """The hex digest of a whole-object checksum; None for absent or composite ones."""
    if not value or "-" in value:
        return None
    raw = base64.b64decode(value)
    return raw.hex() if len(raw) == 32 else None


class S3BlobStore:
    def __init__(self, bucket: str, client: Any | None = None, prefix: str = "") -> None:
        self.bucket = bucket
        self.prefix = prefix
        if client is not None:
            self.client = client

    @cached_property
    def client(self) -> S3Client:
        """Made on first use: a function that reads no object (QIDO-RS) never pays for it."""
        return boto3.client("s3", config=SIGV4)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, data: bytes, *, sha256: str, overwrite: bool) -> None:
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._key(key),
            "Body": data,
            # The algorithm names the header botocore sends as is (no re-hash of the body).
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": sha256_hex_to_b64(sha256),
        }
        if not overwrite:
            params["IfNoneMatch"] = "*"
        for attempt in range(CONFLICT_RETRIES):
            try:
                self.client.put_object(**params)
                return
            except ClientError as exc:
                code = _code(exc)
                if code == "PreconditionFailed":
                    raise BlobExists(key) from None
                if code != "ConditionalRequestConflict" or attempt == CONFLICT_RETRIES - 1:
                    raise
            time.sleep(0.05 * 2**attempt)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                raise BlobNotFound(key) from None
            raise

    def get_buffer(self, key: str) -> bytes:
        return self.get(key)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Range=f"bytes={offset}-{offset + length - 1}",
            )
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                raise BlobNotFound(key) from None
            if _code(exc) == "InvalidRange":
                return b""
            raise
        return response["Body"].read()

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The body as it streams in; ``BlobNotFound`` is raised by this call, not later."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                raise BlobNotFound(key) from None
            raise
        return _stream(body, chunk_size)

    def head(self, key: str) -> BlobInfo | None:
        try:
            response = self.client.head_object(
                Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED"
            )
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                return None
            raise
        return BlobInfo(
            size=int(response["ContentLength"]),
            sha256=sha256_b64_to_hex(response.get("ChecksumSHA256")),
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list_keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for entry in page.get("Contents", []):
                yield entry["Key"].removeprefix(self.prefix)

    def presigned_get_url(
        self, key: str, expires_in: int, *, content_type: str | None = None
    ) -> str | None:
        """``content_type``: the ``Content-Type`` S3 answers with (``response-content-type``)."""
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if content_type is not None:
            params["ResponseContentType"] = content_type
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def put_stream(self, key: str, chunks: Iterable[bytes], part_bytes: int = STREAM_PART) -> None:
        """Write an object of unknown length from ``chunks``: one PUT when it fits in one part,
        else a multipart upload (aborted if anything fails, so no parts are left behind)."""
        buffer = bytearray()
        iterator = iter(chunks)
        for chunk in iterator:
            buffer += chunk
            if len(buffer) >= part_bytes:
                break
        else:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=bytes(buffer))
            return
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=self._key(key))
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            for chunk in iterator:
                buffer += chunk
                while len(buffer) >= part_bytes:
                    parts.append(self._part(key, upload_id, len(parts) + 1, buffer[:part_bytes]))
                    del buffer[:part_bytes]
            if buffer or not parts:
                parts.append(self._part(key, upload_id, len(parts) + 1, buffer))
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self._key(key),
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            )
        except BaseException:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._key(key), UploadId=upload_id
            )
            raise

    def _part(self, key: str, upload_id: str, number: int, data: bytearray) -> dict[str, Any]:
        response = self.client.upload_part(
            Bucket=self.bucket,
            Key=self._key(key),
            UploadId=upload_id,
            PartNumber=number,
            Body=bytes(data),
        )
        return {"PartNumber": number, "ETag": response["ETag"]}


def _stream(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
