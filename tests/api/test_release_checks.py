"""The release checks as the pipeline runs them (``cloudpacs smoke``, ``load``,
``cleanup-checks``) against a live ``cloudpacs serve`` with its DIMSE bridge, and against a
server that answers every request with 500, which must fail the smoke test."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.server_process import wait_until_up
from cloudpacs import __version__
from cloudpacs.cli import main
from cloudpacs.release_checks.credentials import CREDENTIALS_ENV
from cloudpacs.release_checks.probe import CHECK_PATIENT_ID, make_probe
from tests.support.server import free_port

COMMIT = "feedc0de"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """(DICOMweb root, DIMSE port) of ``cloudpacs serve`` as a child process."""
    port, dimse_port = free_port(), free_port()
    env = {
        **os.environ,
        "CLOUDPACS_DATA_DIR": str(tmp_path_factory.mktemp("served") / "data"),
        "CLOUDPACS_COMMIT": COMMIT,
        "CLOUDPACS_FSYNC": "false",
    }
    command = [
        sys.executable, "-m", "cloudpacs.cli", "serve", "--port", str(port),
        "--dimse-port", str(dimse_port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, "cloudpacs serve")
        yield f"http://127.0.0.1:{port}/dicom-web", dimse_port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _check_studies(root: str) -> list[Any]:
    response = httpx.get(f"{root}/studies", params={"PatientID": CHECK_PATIENT_ID})
    return [] if response.status_code == 204 else list(response.json())


def test_smoke_passes_every_step_and_leaves_nothing(
    served: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    root, dimse_port = served
    assert main(["smoke", root, "--dimse", f"127.0.0.1:{dimse_port}"]) == 0
    steps = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert steps == ["stow", "qido", "wado", "delete", "c-echo"]
    assert _check_studies(root) == []


def test_smoke_fails_when_the_dimse_bridge_refuses(
    served: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = served
    assert main(["smoke", root, "--dimse", f"127.0.0.1:{free_port()}"]) == 1
    assert "FAILED c-echo: no association" in capsys.readouterr().err


def test_health_reports_version_and_commit(served: tuple[str, int]) -> None:
    health = httpx.get(served[0].removesuffix("/dicom-web") + "/health").json()
    assert (health["version"], health["commit"]) == (__version__, COMMIT)


def test_short_load_run_stays_within_limits_and_cleans_up(
    served: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = served
    args = ["load", root, "--users", "2", "--duration", "2", "--max-error-rate", "0"]
    assert main([*args, "--max-p95-ms", "60000"]) == 0
    summary = capsys.readouterr().out
    assert " 0 failed (0.00%)" in summary and "p95" in summary
    assert _check_studies(root) == []


def test_cleanup_deletes_what_an_interrupted_run_left(
    served: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = served
    for number in (1, 2):
        body, content_type = make_probe(number).stow_body()
        stored = httpx.post(f"{root}/studies", content=body, headers={"Content-Type": content_type})
        assert stored.status_code == 200
    assert len(_check_studies(root)) == 2
    assert main(["cleanup-checks", root]) == 0
    assert "deleted 2 studies" in capsys.readouterr().out
    assert _check_studies(root) == []


class _Failing(BaseHTTPRequestHandler):
    """Answers 500 to everything but the OAuth token endpoint; records what it was sent."""

    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.seen.append((self.command, self.path, dict(self.headers), body))
        if self.path == "/oauth2/token":
            payload, status = {"access_token": "check-token", "token_type": "Bearer"}, 200
        else:
            payload, status = {"error": "the index is unavailable"}, 500
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def failing() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Failing.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_smoke_exits_non_zero_on_5xx_with_the_reason(
    failing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["smoke", f"{failing}/dicom-web"]) == 1
    error = capsys.readouterr().err
    assert "FAILED STOW-RS: POST" in error
    assert "answered 500" in error and "the index is unavailable" in error


def test_load_exits_non_zero_on_5xx(failing: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", f"{failing}/dicom-web", "--users", "1", "--duration", "1"]) == 1
    assert "answered 500" in capsys.readouterr().err


def test_checks_authenticate_with_the_client_credentials(
    failing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's secret (client id and secret, token URL, scopes) becomes a bearer token
    through the client credentials grant (RFC 6749 §4.4)."""
    credentials = {
        "client_id": "checks", "client_secret": "s3cret",
        "token_url": f"{failing}/oauth2/token", "scope": "cloudpacs/read cloudpacs/delete",
    }  # fmt: skip
    monkeypatch.setenv(CREDENTIALS_ENV, json.dumps(credentials))
    assert main(["smoke", f"{failing}/dicom-web"]) == 1
    (token_request, stow, *_) = _Failing.seen
    assert token_request[:2] == ("POST", "/oauth2/token")
    assert (
        token_request[2]["Authorization"] == "Basic " + base64.b64encode(b"checks:s3cret").decode()
    )
    assert b"grant_type=client_credentials" in token_request[3]
    assert stow[:2] == ("POST", "/dicom-web/studies")
    assert stow[2]["Authorization"] == "Bearer check-token"


def test_smoke_names_an_unreachable_root(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", f"http://127.0.0.1:{free_port()}/dicom-web"]) == 1
    assert "FAILED stow: ConnectError" in capsys.readouterr().err


def test_openapi_document_of_the_http_api(tmp_path: Path) -> None:
    """``make docs`` writes it: every DICOMweb service is described."""
    output = tmp_path / "docs" / "openapi.json"
    assert main(["openapi", "--output", str(output)]) == 0
    document = json.loads(output.read_text())
    assert document["info"]["version"] == __version__
    for path in ("/dicom-web/studies", "/dicom-web/studies/{study}/series/{series}/instances"):
        assert path in document["paths"]
    assert "delete" in document["paths"]["/dicom-web/studies/{study}"]
