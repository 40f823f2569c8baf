"""Upload records in the index table: one item per upload, ``pk = "UPLOAD#<id>"``, ``sk =
"UPLOAD"`` (beside the study partitions; no index key attribute, so no GSI sees it).

The record is one JSON attribute; the STOW-RS response inside it is compressed (zlib) and
bounded by the upload service, so an item stays far below DynamoDB's 400 KB. ``expires_at``
is the table's TTL attribute: records disappear some time after they expire.
``save`` is conditional: a record that is already final is never overwritten, so a late
repeated delivery cannot turn ``done`` back into ``processing``.
"""

from __future__ import annotations

import json
import zlib
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from cloudpacs.adapters.aws.table_schema import TTL_ATTRIBUTE
from cloudpacs.services.uploads_model import UploadRecord, UploadState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

SORT_KEY = "UPLOAD"
_FINAL = [UploadState.DONE.value, UploadState.FAILED.value]


def upload_pk(upload_id: str) -> str:
    return f"UPLOAD#{upload_id}"


class DynamoUploadLedger:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = table_name
        self._given = client

    @cached_property
    def client(self) -> DynamoDBClient:
        """Made on first use: only the functions that serve uploads pay for it."""
        client: DynamoDBClient = self._given or boto3.client("dynamodb")
        return client

    def _item(self, record: UploadRecord) -> dict[str, Any]:
        body = zlib.compress(json.dumps(record.to_json(), separators=(",", ":")).encode())
        return {
            "pk": {"S": upload_pk(record.upload_id)},
            "sk": {"S": SORT_KEY},
            "state": {"S": record.state.value},
            "record": {"B": body},
            TTL_ATTRIBUTE: {"N": str(record.expires_at)},
        }

    def create(self, record: UploadRecord) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=self._item(record),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, upload_id: str) -> UploadRecord | None:
        response = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": upload_pk(upload_id)}, "sk": {"S": SORT_KEY}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return None
        return UploadRecord.from_json(json.loads(zlib.decompress(item["record"]["B"])))

    def save(self, record: UploadRecord) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=self._item(record),
                ConditionExpression="attribute_not_exists(pk) OR NOT #s IN (:done, :failed)",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={":done": {"S": _FINAL[0]}, ":failed": {"S": _FINAL[1]}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
