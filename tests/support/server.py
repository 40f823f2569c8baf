"""A live cloudpacs HTTP server on a free loopback port, for tests with real clients."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from cloudpacs.runtime import Services, build_services
from cloudpacs.settings import Settings, load_settings
from cloudpacs.web.app import create_app

UNAUDITED_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/redoc"})


class RequestCounter:
    """Outermost ASGI wrapper counting the requests that must leave an audit event."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] != "OPTIONS"
            and scope["path"] not in UNAUDITED_PATHS
        ):
            self.count += 1
        await self.app(scope, receive, send)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(
    data_dir: Path, *, wrap: Callable[[Any, Settings], Any] | None = None, **settings: Any
) -> Iterator[tuple[str, Services]]:
    """Yield (DICOMweb root URL, services) of a server running in a background thread;
    ``wrap`` puts an ASGI layer in front of the audited app (the viewer of ``serve``)."""
    port = free_port()
    # dicomweb-client sends "Host: 127.0.0.1" without the port, so the root URL used in
    # RetrieveURL and BulkDataURI is configured, as it would be behind a proxy.
    settings.setdefault("public_base_url", f"http://127.0.0.1:{port}/dicom-web")
    settings.setdefault("fsync", False)
    cfg = load_settings(data_dir=data_dir, port=port, **settings)
    services = build_services(cfg)
    app = RequestCounter(create_app(services))
    served = wrap(app, cfg) if wrap is not None else app
    server = uvicorn.Server(
        uvicorn.Config(served, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}{cfg.base_path}", services
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    audit = cfg.audit_file
    lines = audit.read_text().splitlines() if audit.exists() else []
    # every DICOMweb transaction, allowed or denied, leaves exactly one audit event.
    # (The ingest of an upload adds its own, from the worker: entry point "inbox"; so does the
    # de-identification worker for each instance it quarantines or cleans: "worker"; and the
    # retention job for each study it deletes: "retention".)
    workers = ("inbox", "worker", "retention")
    events = sum(1 for line in lines if json.loads(line)["entry_point"] not in workers)
    assert events == app.count, f"{app.count} requests left {events} audit events"
