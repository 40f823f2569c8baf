"""Prometheus metrics of the HTTP server: requests by route and status, latency, stored data.

Each app has its own registry, so tests and several apps in one process do not share counts.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from cloudpacs.model import InstanceRecord
from cloudpacs.services.ingest import StoreStatus


class HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cloudpacs_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cloudpacs_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.instances_stored = Counter(
            "cloudpacs_instances_stored", "Instances stored", registry=self.registry
        )
        self.bytes_stored = Counter(
            "cloudpacs_bytes_stored", "Bytes of instances stored", registry=self.registry
        )

    def on_stored(self, record: InstanceRecord, status: StoreStatus) -> None:
        self.instances_stored.inc()
        self.bytes_stored.inc(record.size)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def install(self, app: FastAPI) -> None:
        @app.middleware("http")
        async def _measure(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            start = time.perf_counter()
            response = await call_next(request)
            route = _route_template(request)
            self.latency.labels(request.method, route).observe(time.perf_counter() - start)
            self.requests.labels(request.method, route, str(response.status_code)).inc()
            return response


def _route_template(request: Request) -> str:
    """The matched route's path template (``/dicom-web/studies/{study}``), never raw UIDs."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))
