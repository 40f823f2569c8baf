"""One stage's AWS resources under moto, and the four Lambda handlers loaded against them.

The resources mirror what ``stacks/`` deploys (the index table from ``table_schema``, the
data and inbox buckets, the inbox's ObjectCreated notification to an SQS queue with a
dead-letter queue, the audit log group and the event bus), and the functions get the
environment the stack gives them. Each handler module is imported afresh: a cold start.

``deliver_inbox`` plays the SQS event source mapping: it receives the queue's messages, hands
them to the ingest handler as Lambda's SQS event, deletes the ones that succeeded and makes
the failed ones visible again, so SQS's redrive policy moves a poison message to the DLQ.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws

from cloudpacs.adapters.aws.s3_store import SIGV4
from cloudpacs.adapters.aws.table_schema import create_table_kwargs
from cloudpacs.settings import settings_from_environment
from tests.support.lambda_events import REGION, LambdaContext, sqs_record

STAGE = "test"
ACCOUNT = "123456789012"
TABLE = f"cloudpacs-{STAGE}-index"
BUCKET = f"cloudpacs-{STAGE}-dicom-{ACCOUNT}-{REGION}"
INBOX = f"cloudpacs-{STAGE}-inbox-{ACCOUNT}-{REGION}"
AUDIT_GROUP = f"/cloudpacs/{STAGE}/audit"
EVENT_BUS = f"cloudpacs-{STAGE}"
MAX_RECEIVES = 3
FUNCTIONS = ("qido", "wado", "stow", "ingest")

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "CLOUDPACS_BACKEND": "aws",
    "CLOUDPACS_TABLE_NAME": TABLE,
    "CLOUDPACS_BUCKET_NAME": BUCKET,
    "CLOUDPACS_INBOX_BUCKET_NAME": INBOX,
    "CLOUDPACS_AUDIT_LOG_GROUP": AUDIT_GROUP,
    "CLOUDPACS_EVENT_BUS_NAME": EVENT_BUS,
    "CLOUDPACS_INGEST_MAX_RECEIVES": str(MAX_RECEIVES),
    "CLOUDPACS_UPLOAD_PART_BYTES": str(8 << 20),
    "POWERTOOLS_METRICS_NAMESPACE": "cloudpacs",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@dataclass
class AwsWorld:
    s3: Any
    dynamodb: Any
    sqs: Any
    queue_url: str
    dlq_url: str
    queue_arn: str
    log: CallLog

    def queue_depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def inbox_keys(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=INBOX)
        return [item["Key"] for item in listing.get("Contents", [])]


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    settings_from_environment.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        settings_from_environment.cache_clear()


@dataclass
class CallLog:
    """Every AWS request made through the default session's clients: ``service:Operation``
    and, for S3 GETs, whether they were ranged."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def attach(self, events: Any) -> None:
        events.register("before-call", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((f"{model.service_model.service_name}:{model.name}", params))

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        taken, self.calls = self.calls, []
        return taken

    def names(self) -> list[str]:
        return [name for name, _ in self.take()]


class _OneRequestAtATime:
    """moto is not thread-safe; the services make AWS requests from worker threads (the
    parts of one STOW request). Each request is made atomic, as it is on the real service;
    concurrent writers still interleave between requests."""

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def attach(self, events: Any) -> None:
        events.register("before-call", self._before)
        events.register("after-call", self._after)
        events.register("after-call-error", self._after)

    def _before(self, **_: Any) -> None:
        self.lock.acquire()

    def _after(self, **_: Any) -> None:
        self.lock.release()


@contextmanager
def aws_world() -> Iterator[AwsWorld]:
    with environment(ENVIRONMENT), mock_aws():
        boto3.setup_default_session()
        _OneRequestAtATime().attach(boto3.DEFAULT_SESSION.events)  # type: ignore[union-attr]
        log = CallLog()
        log.attach(boto3.DEFAULT_SESSION.events)  # type: ignore[union-attr]
        s3 = boto3.client("s3", region_name=REGION, config=SIGV4)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        dynamodb.create_table(**create_table_kwargs(TABLE))
        location = {"LocationConstraint": REGION}
        for bucket in (BUCKET, INBOX):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)  # type: ignore[typeddict-item]
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=AUDIT_GROUP)
        boto3.client("events", region_name=REGION).create_event_bus(Name=EVENT_BUS)
        dlq_url = sqs.create_queue(QueueName=f"cloudpacs-{STAGE}-ingest-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
        queue_url = sqs.create_queue(
            QueueName=f"cloudpacs-{STAGE}-ingest",
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "30"},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        s3.put_bucket_notification_configuration(
            Bucket=INBOX,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        log.take()
        yield AwsWorld(s3, dynamodb, sqs, queue_url, dlq_url, queue_arn, log)


def load_handlers() -> dict[str, Any]:
    """Each function's ``handler``, its module imported afresh (a cold start)."""
    settings_from_environment.cache_clear()
    handlers = {}
    for name in FUNCTIONS:
        module_name = f"functions.{name}.handler"
        sys.modules.pop(module_name, None)
        handlers[name] = importlib.import_module(module_name).handler
    return handlers


def deliver_inbox(world: AwsWorld, ingest: Any, *, rounds: int = 10) -> list[dict[str, Any]]:
    """Feed the inbox queue to ``ingest`` until it is empty; the handler's answers."""
    answers = []
    for _ in range(rounds):
        received = world.sqs.receive_message(
            QueueUrl=world.queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        records = [sqs_record(message, world.queue_arn) for message in received]
        answer = ingest({"Records": records}, LambdaContext(function_name="ingest"))
        answers.append(answer)
        failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
        for message in received:
            if message["MessageId"] in failed:
                world.sqs.change_message_visibility(
                    QueueUrl=world.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            else:
                world.sqs.delete_message(
                    QueueUrl=world.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
    return answers
