"""Lambda events as AWS sends them, filled from the real-shaped templates in ``tests/events/``.

- ``rest_event``: an API Gateway REST API proxy event (``multiValueHeaders``,
  ``multiValueQueryStringParameters`` with repeated keys, the Cognito authorizer's claims, a
  request id, the stage in ``requestContext.path``). The API's binary media types are ``*/*``,
  so API Gateway hands every request body to Lambda base64-encoded.
- ``s3_created_body`` / ``sqs_event``: an S3 ``ObjectCreated`` notification and the SQS
  batch event that delivers it to the ingest function.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "events"
API_ID = "a1b2c3d4e5"
REGION = "eu-central-1"
HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
STAGE = "dev"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


def claims(
    username: str = "tech.jane", groups: str = "technologist,viewer", **extra: str
) -> dict[str, str]:
    """Cognito authorizer claims: ``cognito:groups`` is a comma-separated string there."""
    values = dict(load("apigw_rest_request.json")["requestContext"]["authorizer"]["claims"])
    values.update(
        {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, username)),
            "username": username,
            "cognito:username": username,
            "cognito:groups": groups,
        }
    )
    values.update(extra)
    return values


def rest_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    query: Sequence[tuple[str, str]] = (),
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    authorizer_claims: Mapping[str, str] | None = None,
    request_id: str | None = None,
    source_ip: str = "198.51.100.23",
) -> dict[str, Any]:
    """A REST API proxy event for ``method path`` (``path`` without the stage)."""
    event = load("apigw_rest_request.json")
    multi_headers: dict[str, list[str]] = {}
    for name, value in (("Host", HOST), ("X-Forwarded-Proto", "https"), *headers):
        for existing in list(multi_headers):
            if existing.lower() == name.lower() and name.lower() in ("host", "x-forwarded-proto"):
                del multi_headers[existing]
        multi_headers.setdefault(name, []).append(value)
    if body is not None:
        multi_headers["Content-Length"] = [str(len(body))]
    multi_query: dict[str, list[str]] = {}
    for key, value in query:
        multi_query.setdefault(key, []).append(value)
    context = copy.deepcopy(event["requestContext"])
    context.update(
        {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "requestId": request_id or str(uuid.uuid4()),
            "stage": STAGE,
        }
    )
    context["identity"]["sourceIp"] = source_ip
    context["authorizer"] = {"claims": dict(authorizer_claims or claims())}
    event.update(
        {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            # API Gateway's single-value maps keep the last value of each name.
            "headers": {k: v[-1] for k, v in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(path_parameters) if path_parameters else None,
            "requestContext": context,
            "body": base64.b64encode(body).decode() if body is not None else None,
            "isBase64Encoded": body is not None,
        }
    )
    return event


def s3_created_body(bucket: str, key: str, size: int) -> str:
    """The SQS message body S3 sends for an object created in ``bucket``."""
    event = load("s3_object_created.json")
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"].update({"key": key, "size": size})
    return json.dumps(event)


def sqs_event(
    bodies: Iterable[str], *, receive_count: int = 1, queue_arn: str | None = None
) -> dict[str, Any]:
    """An SQS batch event for the ingest function, one record per message body."""
    template = load("sqs_event.json")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body
        record["md5OfBody"] = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        if queue_arn:
            record["eventSourceARN"] = queue_arn
        records.append(record)
    return {"Records": records}


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (Powertools reads these fields)."""

    function_name: str = "cloudpacs-dev-qido"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "2f5a3e8b-4c1d-4e6f-9a0b-1c2d3e4f5a6b"
    log_group_name: str = "/cloudpacs/dev/functions/qido"
    log_stream_name: str = "2026/11/23/[$LATEST]0123456789abcdef"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of Lambda's SQS event for a message as ``ReceiveMessage`` returned it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
