"""Ingest of large uploads: S3 ObjectCreated events of the inbox, delivered through SQS.

Each SQS record carries one S3 event notification (a JSON body with ``Records``); each
``ObjectCreated`` record names an inbox object that ``UploadService.process`` ingests.
Records are handled one by one with Powertools' ``BatchProcessor`` and the function answers
with ``batchItemFailures``, so only failed messages come back (the event source mapping has
``ReportBatchItemFailures``); after ``max_receive_count`` deliveries SQS moves a message to
the dead-letter queue: nothing loops. What counts as a failure:

- a body that is not an S3 event (a poison message): fails every time and ends in the DLQ;
- a server fault while ingesting: retried; the last attempt records it in the upload;
- an upload that is not DICOM: not a failure of the message; the upload's status says why.

S3's ``s3:TestEvent`` (sent when the notification is configured) is acknowledged and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cloudpacs.aws_lambda.env import function_settings
from cloudpacs.observability import instrument, logger
from cloudpacs.runtime import build_services
from cloudpacs.services.uploads import UploadService

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class NotAnS3Event(ValueError):
    """An SQS message whose body is not an S3 event notification."""


def created_keys(body: str, bucket: str) -> list[tuple[str, int | None]]:
    """(key, size) of the objects created in ``bucket`` by the S3 event in an SQS message."""
    try:
        notification = json.loads(body)
    except ValueError:
        raise NotAnS3Event("the message body is not JSON") from None
    if not isinstance(notification, dict):
        raise NotAnS3Event("the message body is not a JSON object")
    if notification.get("Event") == "s3:TestEvent":
        return []
    records = notification.get("Records")
    if not isinstance(records, list):
        raise NotAnS3Event("the message has no S3 event records")
    keys: list[tuple[str, int | None]] = []
    for record in records:
        try:
            name = str(record["eventName"])
            source = record["s3"]["bucket"]["name"]
            key = unquote_plus(record["s3"]["object"]["key"])
            size = record["s3"]["object"].get("size")
        except (KeyError, TypeError, AttributeError):
            raise NotAnS3Event("an event record lacks eventName or s3.bucket/object") from None
        if not name.removeprefix("s3:").startswith("ObjectCreated:"):
            continue
        if source != bucket:
            logger.warning("ignoring an event of bucket %s", source)
            continue
        keys.append((key, size if isinstance(size, int) else None))
    return keys


def ingest_handler() -> Handler:
    """The SQS batch handler of the ingest function (built once, at cold start)."""
    settings = function_settings("ingest", "inbox_bucket_name")
    services = build_services(settings)
    instrument(services)
    uploads = services.uploads
    assert uploads is not None and settings.inbox_bucket_name
    return sqs_batch_handler(uploads, settings.inbox_bucket_name)


def sqs_batch_handler(uploads: UploadService, bucket: str) -> Handler:
    # Answer with batchItemFailures even when every record failed (a batch of one, as the stack
    # configures): SQS then redelivers just those, with no invocation error to alarm on.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        attempt = int(record.attributes.approximate_receive_count or 1)
        for key, size in created_keys(record.body, bucket):
            upload = uploads.process(key, attempt=attempt, size=size)
            if upload is not None:
                logger.info(
                    "upload %s: %s (%s)", upload.upload_id, upload.state.value, upload.http_status
                )

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(response)

    return handle
