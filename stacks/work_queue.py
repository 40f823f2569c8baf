"""An SQS work queue as every worker function here gets it: its own rotating KMS key, a
dead-letter queue after ``MAX_RECEIVE_COUNT`` deliveries, TLS only, and a visibility timeout
that outlasts the function's timeout."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.kms_keys import rotating_key

MAX_RECEIVE_COUNT = 3
MAX_VISIBILITY_SECONDS = 12 * 3600


def visibility_timeout_for(function_timeout_seconds: int) -> Duration:
    return Duration.seconds(min(6 * function_timeout_seconds, MAX_VISIBILITY_SECONDS))


@dataclass(frozen=True)
class WorkQueue:
    key: kms.Key
    queue: sqs.Queue
    dead_letter_queue: sqs.Queue


def work_queue(
    scope: Construct,
    *,
    purpose: str,
    key_alias: str,
    key_description: str,
    function_timeout_seconds: int,
    removal_policy: RemovalPolicy,
    queue_id: str = "Queue",
    queue_name: str | None = None,
    dead_letter_queue_name: str | None = None,
) -> WorkQueue:
    """Key ``QueueKey``, ``DeadLetterQueue`` and the queue ``queue_id``, made in ``scope``."""
    key = rotating_key(
        scope,
        "QueueKey",
        alias=key_alias,
        description=key_description,
        removal_policy=removal_policy,
    )
    dead_letter_queue = sqs.Queue(
        scope,
        "DeadLetterQueue",
        queue_name=dead_letter_queue_name,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=removal_policy,
    )
    acknowledge(
        dead_letter_queue,
        "AwsSolutions-SQS3",
        f"This is the dead-letter queue of the {purpose} queue; a DLQ of a DLQ adds nothing.",
    )
    queue = sqs.Queue(
        scope,
        queue_id,
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout_for(function_timeout_seconds),
        retention_period=Duration.days(4),
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT
        ),
        removal_policy=removal_policy,
    )
    return WorkQueue(key=key, queue=queue, dead_letter_queue=dead_letter_queue)
