"""Fault injection into botocore: one operation at a time made to fail, throttle or time out.

``FaultInjector`` hooks ``before-send`` of every client made from the default session (it is
registered first, ahead of moto's own ``before-send`` responder), so a fault happens where
the network would put it: after botocore built and signed the request, inside its retry
loop. Modes:

- ``fail``: every attempt answers HTTP 500 ``InternalError`` (botocore retries, then raises);
- ``throttle``: the first two attempts answer a throttling error (``SlowDown`` for S3,
  ``ThrottlingException`` / ``ProvisionedThroughputExceededException`` elsewhere), then the
  call goes through: botocore's retries must absorb it;
- ``timeout``: every attempt raises ``ReadTimeoutError`` (retried, then raised).

Retry back-off sleeps are skipped (``no_backoff``) so a scenario takes milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.endpoint
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

MODES = ("fail", "throttle", "timeout")
THROTTLED_ATTEMPTS = 2
_THROTTLE_CODES = {
    "s3": (503, "SlowDown"),
    "dynamodb": (400, "ProvisionedThroughputExceededException"),
}


class _Raw:
    """The raw body botocore reads from a response."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class FaultInjector:
    target: str | None = None
    """``service:Operation`` to break; None: no fault."""
    mode: str = "fail"
    injected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, events: Any) -> None:
        events.register_first("before-send", self._before_send)

    @contextmanager
    def breaking(self, target: str, mode: str) -> Iterator[FaultInjector]:
        with self.lock:
            self.target, self.mode, self.injected = target, mode, 0
        try:
            yield self
        finally:
            with self.lock:
                self.target = None

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".", 2)
        with self.lock:
            if self.target != f"{_service(service)}:{operation}":
                return None
            self.injected += 1
            mode, count = self.mode, self.injected
        if mode == "throttle" and count > THROTTLED_ATTEMPTS:
            return None
        if mode == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        status, code = (500, "InternalError")
        if mode == "throttle":
            status, code = _THROTTLE_CODES.get(_service(service), (400, "ThrottlingException"))
        return _error(_service(service), status, code, request)


def _service(event_service: str) -> str:
    """botocore event names use the service id (``eventbridge``, ``dynamodb``, ``s3``)."""
    return {"eventbridge": "events"}.get(event_service, event_service)


def _error(service: str, status: int, code: str, request: Any) -> AWSResponse:
    if service == "s3":
        body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
        headers = {"Content-Type": "application/xml"}
    elif service == "sqs":
        body = (
            f'{{"__type": "com.amazonaws.sqs#{code}", "message": "injected"}}'.encode()
            if code != "InternalError"
            else b'{"__type": "InternalError", "message": "injected"}'
        )
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-query-error": f"{code};Receiver",
        }
    else:
        body = f'{{"__type": "{code}", "message": "injected"}}'.encode()
        headers = {"Content-Type": "application/x-amz-json-1.1"}
    return AWSResponse(request.url, status, headers, _Raw(body))


class _NoSleep:
    """``botocore.endpoint``'s view of ``time``: back-off sleeps return at once."""

    @staticmethod
    def sleep(_: float) -> None:
        return None


@contextmanager
def no_backoff() -> Iterator[None]:
    saved = botocore.endpoint.time
    botocore.endpoint.time = _NoSleep  # type: ignore[assignment]
    try:
        yield
    finally:
        botocore.endpoint.time = saved
