"""One DICOMweb client fixture over both runtimes, so one suite checks both give the same results.

- ``local``: the embedded server (uvicorn on loopback, SQLite and files, the in-process
  upload worker), reached with httpx over a socket;
- ``lambda``: the four handlers against moto behind the in-process API Gateway
  (``tests.support.lambda_api``); presigned S3 URLs are answered by moto.

``settle()`` lets the asynchronous upload path finish: the local worker drains its queue; in
AWS the inbox queue's messages are handed to the ingest handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.aws_world import aws_world, deliver_inbox, load_handlers
from tests.support.lambda_api import BASE_URL, LambdaApi, LambdaTransport
from tests.support.lambda_events import claims
from tests.support.server import live_server

KINDS = ("local", "lambda")


@dataclass
class Api:
    kind: str
    client: httpx.Client
    base_url: str
    settle: Callable[[], None]


@contextmanager
def running_api(kind: str, tmp_path: Path) -> Iterator[Api]:
    if kind == "local":
        with live_server(tmp_path / "data") as (url, services):
            worker = services.inbox_worker
            assert worker is not None

            def settle_local() -> None:
                assert worker.wait_idle(60)

            with httpx.Client(base_url=url, timeout=60) as client:
                yield Api(kind, client, url, settle_local)
        return
    with aws_world() as world:
        handlers = load_handlers()
        # The local server without authentication serves its loopback operator as admin.
        api = LambdaApi(handlers, claims=claims("pacs.admin", groups="admin"))

        def settle_lambda() -> None:
            deliver_inbox(world, handlers["ingest"])

        transport = LambdaTransport(api)
        with httpx.Client(transport=transport, base_url=BASE_URL, timeout=60) as client:
            yield Api(kind, client, BASE_URL, settle_lambda)
