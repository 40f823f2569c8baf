"""The Tracer of the Lambda functions, with the X-Ray SDK loaded only where tracing is on.

Powertools' ``Tracer`` imports ``aws_xray_sdk.core`` (with botocore's session and docs
machinery behind it) to build its default provider even when tracing is off, which is a
tenth of a second of every cold start. Where tracing is off (outside Lambda, or
``POWERTOOLS_TRACE_DISABLED``), it gets ``UntracedProvider`` instead: the decorators and
``put_annotation`` keep working and record nothing. In Lambda with tracing on, the provider
is the X-Ray recorder, as before.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

_TRUE = ("1", "true", "yes", "on")


def tracing_on() -> bool:
    """What Powertools decides (``Tracer._is_tracer_disabled``), from the same variables."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in _TRUE:
        return False
    local = os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE")
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not local


class _Segment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class UntracedProvider(BaseProvider):
    """A provider that records nothing."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _Segment()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: Any = None, **kwargs: Any
    ) -> AsyncIterator[BaseSegment]:
        yield _Segment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def make_tracer() -> Tracer:
    if tracing_on():
        return Tracer()
    return Tracer(disabled=True, provider=UntracedProvider())
