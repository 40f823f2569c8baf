"""``HEAD`` on every ``GET`` route (RFC 9110 §9.3.2; docs/auth.md, "Roles and routes"): the
status and headers of the ``GET``, no body, the same action in the audit trail, locally over
uvicorn and in Lambda through Mangum."""

from __future__ import annotations

import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pydicom
import pytest
from mangum import Mangum

from cloudpacs.runtime import Services, build_services
from cloudpacs.services.deid_model import ProfileSpec
from cloudpacs.settings import load_settings
from cloudpacs.web.app import create_app
from tests.support.server import live_server
from tests.support.synthetic import ct_study

VOLATILE = {"date", "x-request-id", "server"}


def _seed(services: Services) -> dict[str, str]:
    study, objects = ct_study(2, series=1, rows=8, columns=8)
    for data in objects:
        assert services.ingest.store(data).ok
    first = pydicom.dcmread(io.BytesIO(objects[0]))
    assert services.deid_jobs is not None
    job = services.deid_jobs.submit(study, ProfileSpec("basic"), owner=None).job_id
    assert services.uploads is not None
    upload = services.uploads.create(size=None, content_type=None, study=None, owner=None)[0]
    return {
        "study": study,
        "series": str(first.SeriesInstanceUID),
        "sop": str(first.SOPInstanceUID),
        "frame_list": "1",
        "tag_path": "7FE00010",
        "job": job,
        "upload": upload.upload_id,
    }


def get_paths(services: Services, uids: dict[str, str]) -> list[str]:
    """Every GET route the local server mounts, with its parameters filled in."""
    described = create_app(services).openapi()["paths"]
    return [path.format(**uids) for path, methods in described.items() if "get" in methods]


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Services, list[str]]]:
    with live_server(tmp_path_factory.mktemp("head") / "data") as (url, services):
        root = url.removesuffix(services.settings.base_path)
        yield root, services, get_paths(services, _seed(services))


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE}


def test_head_answers_every_get_route_like_get_without_a_body(
    pacs: tuple[str, Services, list[str]],
) -> None:
    root, services, paths = pacs
    assert len(paths) >= 20
    audit = services.settings.audit_file
    with httpx.Client(base_url=root, timeout=30) as http:
        for path in paths:
            got = http.get(path)
            if not path.startswith("/research/"):  # the research copy is not seeded here
                assert got.status_code < 400, (path, got.status_code, got.text)
            before = len(audit.read_text().splitlines()) if audit.exists() else 0
            head = http.head(path)
            assert head.status_code == got.status_code, path
            assert head.content == b""
            expected = _headers(got)
            if path in ("/metrics", "/audit", "/api/v1/system/metrics", "/api/v1/system/status"):
                # each request changes what they report (counters, the trail, uptime)
                expected.pop("content-length")
                assert {k: v for k, v in _headers(head).items() if k != "content-length"} == (
                    expected
                )
            elif "content-length" not in expected:  # streamed: no length known before sending
                head_headers = _headers(head)
                head_headers.pop("content-length", None)
                expected.pop("transfer-encoding", None)
                head_headers.pop("transfer-encoding", None)
                assert head_headers.keys() - {"content-type"} == expected.keys() - {
                    "content-type"
                }, path
                assert (
                    head.headers["content-type"].split(";")[0]
                    == expected["content-type"].split(";")[0]
                )
            else:
                assert _headers(head) == expected, path
            if path in ("/health", "/openapi.json", "/docs", "/redoc"):
                continue
            events = audit.read_text().splitlines()[before:]
            assert len(events) == 1, path  # HEAD performs the GET route's action, audited once
            event = json.loads(events[0])
            assert event["request_id"] == head.headers["x-request-id"]
            assert event["action"] not in ("unrouted", None), path


def test_head_sends_no_body_bytes_on_the_wire(pacs: tuple[str, Services, list[str]]) -> None:
    """httpx never reads a HEAD body, so ask with a raw socket: nothing follows the headers."""
    root, _, paths = pacs
    instance = next(p for p in paths if re.fullmatch(r"/dicom-web/.*/instances/[0-9.]+", p))
    netloc = urlsplit(root).netloc
    host, port = netloc.split(":")
    for path in ("/dicom-web/studies", instance):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                f"HEAD {path} HTTP/1.1\r\nHost: {netloc}\r\nConnection: close\r\n\r\n".encode()
            )
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert rest == b"", (path, rest[:80])


def test_head_through_mangum(tmp_path: Path) -> None:
    """The Lambda path: API Gateway's REST event with ``httpMethod`` HEAD."""
    settings = load_settings(data_dir=tmp_path, fsync=False, auth="apigateway")
    services = build_services(settings)
    uids = _seed(services)
    handler = Mangum(create_app(services), lifespan="off")
    claims = {"sub": "s-1", "cognito:username": "vera", "cognito:groups": "viewer"}
    for path in (
        "/dicom-web/studies",
        f"/dicom-web/studies/{uids['study']}/metadata",
        f"/dicom-web/studies/{uids['study']}/series/{uids['series']}/instances/{uids['sop']}",
    ):
        got = handler(_event("GET", path, claims), None)
        head = handler(_event("HEAD", path, claims), None)
        assert head["statusCode"] == got["statusCode"] == 200, path
        assert head["body"] == ""
        drop = {"x-request-id", "content-length", "transfer-encoding"}
        got_headers = {k: v for k, v in got["multiValueHeaders"].items() if k not in drop}
        head_headers = {k: v for k, v in head["multiValueHeaders"].items() if k not in drop}
        assert head_headers == got_headers, path
    denied = handler(_event("HEAD", "/dicom-web/studies", {**claims, "cognito:groups": ""}), None)
    assert denied["statusCode"] == 403
    events = [json.loads(line) for line in settings.audit_file.read_text().splitlines()]
    assert [e["action"] for e in events] == ["search", "search", *["retrieve"] * 4, "search"]


def _event(method: str, path: str, claims: dict[str, str]) -> dict[str, Any]:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "api.example.org", "Accept": "*/*"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7"},
            "stage": "prod",
            "authorizer": {"claims": claims},
        },
        "body": None,
        "isBase64Encoded": False,
    }
