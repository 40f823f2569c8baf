"""Inbox on S3 (DESIGN.md §5): presigned PUT and multipart-upload URLs into the inbox bucket.

- Up to ``part_bytes``, one presigned ``PutObject`` URL. Larger (or of unknown size beyond
  5 GiB, which one PUT cannot carry): ``CreateMultipartUpload`` now, a presigned
  ``UploadPart`` URL per part and a presigned ``CompleteMultipartUpload`` URL the client
  posts the part list (with each part's ``ETag``) to. Nothing is signed but the method, key
  and query, so clients send any ``Content-Type``; the bucket's default KMS encryption applies.
- URLs are SigV4 (KMS-encrypted buckets refuse older signatures) and expire after
  ``expires_in`` seconds (or with the signing credentials, whichever is first).
- S3 then sends ``ObjectCreated`` (``Put`` or ``CompleteMultipartUpload``) to the ingest queue.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from cloudpacs.adapters.aws.s3_store import NOT_FOUND, SIGV4
from cloudpacs.ports import BlobNotFound
from cloudpacs.services.uploads_model import UploadPart, UploadTarget

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

MAX_PARTS = 10_000
SINGLE_PUT_LIMIT = 5 * 1024**3


class S3Inbox:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._given = client

    @cached_property
    def client(self) -> S3Client:
        """Made on first use: only the functions that serve uploads pay for it."""
        client: S3Client = self._given or boto3.client("s3", config=SIGV4)
        return client

    def targets(
        self, key: str, size: int | None, *, part_bytes: int, expires_in: int
    ) -> UploadTarget:
        if size is None or size <= min(part_bytes, SINGLE_PUT_LIMIT):
            url = self.client.generate_presigned_url(
                "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
            return UploadTarget(url=url)
        part_size = max(part_bytes, math.ceil(size / MAX_PARTS))
        multipart_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        parts = tuple(
            UploadPart(
                number,
                self.client.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": self.bucket,
                        "Key": key,
                        "UploadId": multipart_id,
                        "PartNumber": number,
                    },
                    ExpiresIn=expires_in,
                ),
            )
            for number in range(1, math.ceil(size / part_size) + 1)
        )
        complete = self.client.generate_presigned_url(
            "complete_multipart_upload",
            Params={"Bucket": self.bucket, "Key": key, "UploadId": multipart_id},
            ExpiresIn=expires_in,
        )
        return UploadTarget(
            part_size=part_size, parts=parts, complete_url=complete, multipart_id=multipart_id
        )

    def read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in NOT_FOUND:
                raise BlobNotFound(key) from None
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)
