"""Prometheus metrics of the HTTP server: requests by route and status, latency, stored data.

Each app has its own registry, so tests and several apps in one process do not share counts.
The middleware is plain ASGI: it watches the messages go by instead of re-streaming the body
through a task and a queue as Starlette's ``BaseHTTPMiddleware`` does (a whole study is
hundreds of body messages), and the latency it records ends with the last byte sent.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        app.add_middleware(MetricsMiddleware, metrics=self)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)
            self.metrics.requests.labels(method, route, str(status)).inc()


def _route_template(scope: Scope) -> str:
    """The matched route's path template (``/dicom-web/studies/{study}``), never raw UIDs."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
