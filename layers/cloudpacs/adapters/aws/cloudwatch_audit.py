"""AWS audit sink: ``PutLogEvents`` into a dedicated CloudWatch Logs group.

Why the API and not JSON lines on stdout routed by the stack: stdout is the application log,
which carries text derived from requests. If audit records shared it, any log line shaped like
an audit record would be counted as one by Logs Insights (a forged entry), and the audit trail
would inherit the application log's retention and readers. A dedicated group gives the audit
trail its own retention (years, from the stage settings), its own KMS key and its own readers,
and the runtime role needs only ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on that one
group: it can add records, never change or delete them. The same class serves the Lambda
functions and the DIMSE bridge on Fargate.

Each ``emit`` is one synchronous ``PutLogEvents`` call, so the record is stored before the
response leaves (no buffer to lose when Lambda freezes the process); the cost is one API
round trip per transaction. Each process writes its own stream (created on first use), so
streams never need sequence tokens or cross-process coordination.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from cloudpacs.security.audit import AuditEvent, parse_time


class AuditWriteFailed(RuntimeError):
    """CloudWatch Logs did not accept an audit record."""


class CloudWatchAuditSink:
    def __init__(
        self,
        log_group: str,
        *,
        stream_name: str | None = None,
        client: Any | None = None,
        region_name: str | None = None,
    ) -> None:
        self.log_group = log_group
        self.stream_name = stream_name or _default_stream_name()
        self._client = client or boto3.client("logs", region_name=region_name)
        self._lock = threading.Lock()
        self._stream_ready = False

    def emit(self, event: AuditEvent) -> None:
        timestamp = int(parse_time(event.time).timestamp() * 1000)
        with self._lock:
            self._ensure_stream()
            response = self._client.put_log_events(
                logGroupName=self.log_group,
                logStreamName=self.stream_name,
                logEvents=[{"timestamp": timestamp, "message": event.to_json()}],
            )
        rejected = response.get("rejectedLogEventsInfo")
        if rejected:
            raise AuditWriteFailed(f"CloudWatch Logs rejected the audit record: {rejected}")

    def _ensure_stream(self) -> None:
        if self._stream_ready:
            return
        with contextlib.suppress(self._client.exceptions.ResourceAlreadyExistsException):
            self._client.create_log_stream(
                logGroupName=self.log_group, logStreamName=self.stream_name
            )
        self._stream_ready = True


def _default_stream_name() -> str:
    """``<yyyy/mm/dd>/<function or service>/<unique>``: one stream per process."""
    owner = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or os.environ.get("CLOUDPACS_SERVICE")
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    return f"{day}/{owner or 'cloudpacs'}/{uuid.uuid4().hex}"
