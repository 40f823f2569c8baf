"""The anonymize queue: de-identification tasks as SQS messages (``SendMessageBatch``).

One message per task, its body ``DeidTask.to_json()``; ten per call, the SQS maximum.
Entries SQS reports as failed are sent once more; if any still fail, ``TasksNotQueued`` says
how many, after every batch has been tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3

from cloudpacs.services.deid_model import DeidTask

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

MAX_ENTRIES_PER_CALL = 10


class TasksNotQueued(RuntimeError):
    pass


class SqsTaskQueue:
    def __init__(
        self, queue_url: str, *, client: Any | None = None, region_name: str | None = None
    ) -> None:
        self.queue_url = queue_url
        self.client: SQSClient = client or boto3.client("sqs", region_name=region_name)

    def send(self, tasks: Sequence[DeidTask]) -> None:
        failed = 0
        for start in range(0, len(tasks), MAX_ENTRIES_PER_CALL):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(i), "MessageBody": task.to_json()}
                for i, task in enumerate(tasks[start : start + MAX_ENTRIES_PER_CALL])
            ]
            retry = self._send(entries)
            if retry:
                failed += len(self._send(retry))
        if failed:
            raise TasksNotQueued(f"{failed} de-identification task(s) not accepted by SQS")

    def _send(
        self, entries: list[SendMessageBatchRequestEntryTypeDef]
    ) -> list[SendMessageBatchRequestEntryTypeDef]:
        response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        failed = {item["Id"] for item in response.get("Failed", [])}
        return [entry for entry in entries if entry["Id"] in failed]
