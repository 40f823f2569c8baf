"""De-identification jobs in the index table: one partition per job, beside the studies.

| item     | pk           | sk              | holds |
| -------- | ------------ | --------------- | ----- |
| job      | ``JOB#<id>`` | ``JOB``         | ``record`` (JSON), ``error`` once it could not start |
| result   | ``JOB#<id>`` | ``RESULT#<sop>``| ``result`` (JSON), one per instance |

No item carries an index key attribute, so no GSI sees them; every item carries the table's
TTL attribute and expires ``record_days`` after it is written. A result is keyed by its SOP
Instance UID, so a repeated delivery overwrites it instead of counting twice; ``get`` is one
consistent ``Query`` of the partition (pages followed). Writers are limited to ``JOB#`` keys
by IAM (``dynamodb:LeadingKeys``, stacks/api/stack.py).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import boto3

from cloudpacs.adapters.aws.table_schema import TTL_ATTRIBUTE
from cloudpacs.services.deid_model import InstanceResult, JobRecord, JobStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

JOB_SK = "JOB"
RESULT_PREFIX = "RESULT#"
BATCH_WRITE_SIZE = 25
MAX_ATTEMPTS = 16


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class JobWriteFailed(RuntimeError):
    """BatchWriteItem kept returning unprocessed items."""


class DynamoJobLedger:
    def __init__(self, table_name: str, *, record_days: int, client: Any | None = None) -> None:
        self.table = table_name
        self.record_seconds = record_days * 86400
        self.client: DynamoDBClient = client if client is not None else boto3.client("dynamodb")

    def create(self, record: JobRecord) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": job_pk(record.job_id)},
                "sk": {"S": JOB_SK},
                "record": {"S": _dumps(record.to_json())},
                TTL_ATTRIBUTE: {"N": str(record.expires_at)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, job_id: str) -> JobStatus | None:
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": job_pk(job_id)}},
            "ConsistentRead": True,
        }
        record: JobRecord | None = None
        results: list[InstanceResult] = []
        while True:
            page = self.client.query(**params)
            for item in page.get("Items", []):
                if item["sk"]["S"] == JOB_SK:
                    record = JobRecord.from_json(json.loads(item["record"]["S"]))
                    if "error" in item:
                        record = replace(record, error=item["error"]["S"])
                else:
                    results.append(InstanceResult.from_json(json.loads(item["result"]["S"])))
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            params["ExclusiveStartKey"] = last
        return JobStatus(record, tuple(results)) if record is not None else None

    def record(self, job_id: str, results: Sequence[InstanceResult]) -> None:
        expires = str(int(time.time()) + self.record_seconds)
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": job_pk(job_id)},
                        "sk": {"S": RESULT_PREFIX + result.sop_uid},
                        "result": {"S": _dumps(result.to_json())},
                        TTL_ATTRIBUTE: {"N": expires},
                    }
                }
            }
            for result in {r.sop_uid: r for r in results}.values()
        ]
        for start in range(0, len(puts), BATCH_WRITE_SIZE):
            request: Any = {self.table: puts[start : start + BATCH_WRITE_SIZE]}
            for attempt in range(MAX_ATTEMPTS):
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems")
                if not request:
                    break
                time.sleep(random.uniform(0, min(0.02 * 2**attempt, 1.0)))
            else:
                raise JobWriteFailed(f"results of job {job_id} kept coming back unprocessed")

    def fail(self, job_id: str, error: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": job_pk(job_id)}, "sk": {"S": JOB_SK}},
                UpdateExpression="SET #e = :e",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#e": "error"},
                ExpressionAttributeValues={":e": {"S": error}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return
