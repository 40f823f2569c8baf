"""The retention function: run daily by an EventBridge schedule (docs/lifecycle.md).

The scheduled event carries nothing the job needs; the run deletes the studies past
``CLOUDPACS_RETENTION_DAYS`` that are not on legal hold (``services.retention``) and answers
with the report. It stops starting new deletes when less than ``STOP_MARGIN_MS`` of the
invocation's time is left; the next run continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudpacs.aws_lambda.env import function_settings
from cloudpacs.observability import instrument, logger
from cloudpacs.runtime import build_services

STOP_MARGIN_MS = 60_000
"""Time kept for the study being deleted, the audit events and the answer."""

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def retention_handler() -> Handler:
    """The scheduled handler (built once, at cold start)."""
    settings = function_settings("retention", "retention_days")
    services = build_services(settings)
    instrument(services)
    job = services.retention
    assert job is not None  # retention_days is required above

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        def time_left() -> bool:
            remaining = getattr(context, "get_remaining_time_in_millis", None)
            return remaining is None or remaining() > STOP_MARGIN_MS

        report = job.run(should_continue=time_left)
        if not report.complete:
            logger.warning("retention stopped before the end; the next run continues")
        return report.to_json()

    return handle
