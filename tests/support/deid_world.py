"""De-identification's AWS resources under moto, on top of ``aws_world``: the research index
table, the anonymize queue with its dead-letter queue and the pseudonym secret, as the stacks
deploy them, and the environment the deidentify, research and anonymize functions get.

``deliver`` plays the anonymize function's SQS event source mapping: it receives the queue's
messages, hands them to the handler as Lambda's SQS event, deletes the ones that succeeded and
makes the failed ones visible again, so the redrive policy moves a poison message to the DLQ.
"""

from __future__ import annotations

import importlib
import json
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cloudpacs.adapters.aws.table_schema import create_table_kwargs
from cloudpacs.settings import settings_from_environment
from tests.support.aws_world import FUNCTIONS, STAGE, AwsWorld, aws_world, environment
from tests.support.lambda_events import REGION, LambdaContext, sqs_record

RESEARCH_TABLE = f"cloudpacs-{STAGE}-research"
SECRET = f"cloudpacs/{STAGE}/deid-key"
MAX_RECEIVES = 3
DEID_FUNCTIONS = ("deidentify", "research", "anonymize")


@dataclass
class DeidWorld:
    aws: AwsWorld
    queue_url: str
    queue_arn: str
    dlq_url: str

    def depth(self, url: str) -> int:
        return self.aws.queue_depth(url)


@contextmanager
def deid_world(auto_profile: str | None = None) -> Iterator[DeidWorld]:
    with aws_world() as world:
        world.dynamodb.create_table(**create_table_kwargs(RESEARCH_TABLE))
        sqs = world.sqs
        dlq_url = sqs.create_queue(QueueName=f"cloudpacs-{STAGE}-anonymize-dlq")["QueueUrl"]
        dlq_arn = _arn(sqs, dlq_url)
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
        queue_url = sqs.create_queue(
            QueueName=f"cloudpacs-{STAGE}-anonymize",
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "30"},
        )["QueueUrl"]
        import boto3

        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=SECRET, SecretString=secrets.token_urlsafe(48)
        )
        values = {
            "CLOUDPACS_RESEARCH_TABLE_NAME": RESEARCH_TABLE,
            "CLOUDPACS_DEID_QUEUE_URL": queue_url,
            "CLOUDPACS_DEID_SECRET_ID": SECRET,
            "CLOUDPACS_DEID_MAX_RECEIVES": str(MAX_RECEIVES),
        }
        if auto_profile:
            values["CLOUDPACS_AUTO_DEIDENTIFY_PROFILE"] = auto_profile
        with environment(values):
            world.log.take()
            yield DeidWorld(world, queue_url, _arn(sqs, queue_url), dlq_url)


def _arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def load_all_handlers() -> dict[str, Any]:
    """Every function's ``handler``, each module imported afresh (a cold start)."""
    settings_from_environment.cache_clear()
    handlers = {}
    for name in (*FUNCTIONS, *DEID_FUNCTIONS):
        module_name = f"functions.{name}.handler"
        sys.modules.pop(module_name, None)
        handlers[name] = importlib.import_module(module_name).handler
    return handlers


def deliver(world: DeidWorld, anonymize: Any, *, rounds: int = 50) -> list[dict[str, Any]]:
    """Feed the anonymize queue to its handler until the queue is empty; the answers."""
    sqs = world.aws.sqs
    answers = []
    for _ in range(rounds):
        received = sqs.receive_message(
            QueueUrl=world.queue_url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        records = [sqs_record(message, world.queue_arn) for message in received]
        answer = anonymize({"Records": records}, LambdaContext(function_name="anonymize"))
        answers.append(answer)
        failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
        for message in received:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=world.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            else:
                sqs.delete_message(QueueUrl=world.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return answers
