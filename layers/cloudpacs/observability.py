"""Logger, Tracer and Metrics of the Lambda functions, created once, here (STYLE.md).

Handlers carry the decorators (correlation id from API Gateway's request id); what is
measured is reported by hooks on the services and by ``RouteMetrics`` on the app, never by
handler code. EMF metrics in namespace ``cloudpacs`` (the dashboard sums them over every
dimension, stacks/monitoring):

| metric | unit | from |
| --- | --- | --- |
| InstancesStored, BytesStored | Count, Bytes | ingest ``on_stored`` (STOW-RS and uploads) |
| StowFailures | Count | ingest ``on_failed``: each object refused or not stored |
| QueryResults | Count | query ``on_searched``: results returned per search |
| BytesServed | Bytes | response bodies of GET requests, and bodies sent by redirect |
| Latency | Milliseconds | per request, dimension ``route`` (method and path template) |
| InstancesDeidentified | Count | anonymize ``on_result``: copies stored in the research store |
| InstancesQuarantined, DeidentificationFailures | Count | anonymize ``on_result``: refusals |
| StudiesRetired, StudiesRetainedOnHold | Count | retention ``on_run``: deleted, kept on hold |
| RetentionFailures | Count | retention ``on_run``: studies the job could not delete |

Only counts, sizes and route templates are recorded: never UIDs or other patient data.
Powertools leaves Tracer off outside Lambda (``cloudpacs.tracing``: then without the X-Ray
SDK), and ``log_metrics`` flushes once per invocation.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit

from cloudpacs.tracing import make_tracer

if TYPE_CHECKING:
    from cloudpacs.model import InstanceRecord
    from cloudpacs.runtime import Services
    from cloudpacs.services.deid_model import InstanceResult
    from cloudpacs.services.ingest import StoreOutcome, StoreStatus
    from cloudpacs.services.query import QueryResult
    from cloudpacs.services.query_model import Query
    from cloudpacs.services.retention import RetentionReport

NAMESPACE = "cloudpacs"

logger = Logger()
tracer = make_tracer()
metrics = Metrics(namespace=NAMESPACE)
_lock = threading.Lock()
"""Services report from worker threads (concurrent STOW parts); the metric set is shared."""


def count(name: str, value: float, unit: MetricUnit = MetricUnit.Count) -> None:
    with _lock:
        metrics.add_metric(name=name, unit=unit, value=value)


def on_stored(record: InstanceRecord, status: StoreStatus) -> None:
    count("InstancesStored", 1)
    count("BytesStored", record.size, MetricUnit.Bytes)


def on_failed(outcome: StoreOutcome) -> None:
    count("StowFailures", 1)


def on_searched(query: Query, result: QueryResult) -> None:
    count("QueryResults", len(result.items))


def on_redirected(size: int) -> None:
    count("BytesServed", size, MetricUnit.Bytes)


_DEID_METRICS = {
    "deidentified": "InstancesDeidentified",
    "quarantined": "InstancesQuarantined",
    "failed": "DeidentificationFailures",
}


def on_deidentified(result: InstanceResult) -> None:
    count(_DEID_METRICS[result.outcome.value], 1)


def on_retention_run(report: RetentionReport) -> None:
    count("StudiesRetired", len(report.deleted))
    count("StudiesRetainedOnHold", len(report.held))
    count("RetentionFailures", len(report.failed))


def instrument(services: Services) -> None:
    """Attach the metric hooks to the services (once), the research store's included."""
    hooks: list[tuple[list[Any], Any]] = [
        (services.ingest.on_stored, on_stored),
        (services.ingest.on_failed, on_failed),
        (services.query.on_searched, on_searched),
    ]
    if services.large_responses is not None:
        hooks.append((services.large_responses.on_redirected, on_redirected))
    research = services.research
    if research is not None:
        hooks.append((research.query.on_searched, on_searched))
        if research.large_responses is not None:
            hooks.append((research.large_responses.on_redirected, on_redirected))
    if services.deid_worker is not None:
        hooks.append((services.deid_worker.on_result, on_deidentified))
    if services.retention is not None:
        hooks.append((services.retention.on_run, on_retention_run))
    for hook_list, hook in hooks:
        if hook not in hook_list:
            hook_list.append(hook)


class RouteMetrics:
    """ASGI middleware: latency per route template and bytes of GET response bodies."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        sent = 0

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal sent
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = (time.perf_counter() - start) * 1000
            with (
                _lock,
                single_metric(
                    name="Latency", unit=MetricUnit.Milliseconds, value=elapsed, namespace=NAMESPACE
                ) as metric,
            ):
                metric.add_dimension(name="route", value=f"{scope['method']} {route}")
            if scope["method"] == "GET" and sent:
                count("BytesServed", sent, MetricUnit.Bytes)
