"""The HTTP metrics middleware: what it counts for answered, streamed and failed requests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from prometheus_client.parser import text_string_to_metric_families

from cloudpacs.web.head import HeadAsGet
from cloudpacs.web.metrics import HttpMetrics


def _app() -> tuple[FastAPI, HttpMetrics]:
    app = FastAPI()

    @app.get("/things/{thing}")
    def thing(thing: str) -> dict[str, str]:
        if thing == "missing":
            raise HTTPException(404)
        return {"thing": thing}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def body() -> Iterator[bytes]:
            for _ in range(50):
                yield b"x" * 1000

        return StreamingResponse(body())

    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("broken")

    app.add_middleware(HeadAsGet)
    metrics = HttpMetrics()
    metrics.install(app)
    return app, metrics


def _get(app: FastAPI, *paths: str, method: str = "GET") -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.request(method, path) for path in paths]

    return asyncio.run(run())


def _requests(metrics: HttpMetrics) -> dict[tuple[str, str, str], float]:
    counts = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        if family.name == "cloudpacs_http_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    labels = sample.labels
                    counts[(labels["method"], labels["route"], labels["status"])] = sample.value
    return counts


def test_requests_are_counted_by_route_template_and_status() -> None:
    app, metrics = _app()
    answers = _get(app, "/things/a", "/things/b", "/things/missing", "/broken", "/nowhere")
    assert [r.status_code for r in answers] == [200, 200, 404, 500, 404]
    assert _requests(metrics) == {
        ("GET", "/things/{thing}", "200"): 2.0,
        ("GET", "/things/{thing}", "404"): 1.0,
        ("GET", "/broken", "500"): 1.0,
        ("GET", "unmatched", "404"): 1.0,
    }


def test_a_streamed_body_passes_through_whole_and_is_counted_once() -> None:
    app, metrics = _app()
    (response,) = _get(app, "/stream")
    assert response.content == b"x" * 50_000
    assert _requests(metrics) == {("GET", "/stream", "200"): 1.0}
    latency = {
        s.labels["route"]: s.value
        for f in text_string_to_metric_families(metrics.render().decode())
        if f.name == "cloudpacs_http_request_seconds"
        for s in f.samples
        if s.name.endswith("_count")
    }
    assert latency == {"/stream": 1.0}


def test_a_head_request_is_counted_under_the_get_route_it_stands_for() -> None:
    app, metrics = _app()
    (response,) = _get(app, "/things/a", method="HEAD")
    assert response.status_code == 200
    assert response.content == b""
    assert _requests(metrics) == {("HEAD", "/things/{thing}", "200"): 1.0}
