"""``cloudpacs serve`` as a user runs it: a child process that answers, refuses to expose an
unauthenticated server, and on SIGTERM stops cleanly (the run is marked as cleanly ended)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from benchmarks.server_process import wait_until_up
from tests.support.server import free_port


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLOUDPACS_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-m", "cloudpacs.cli", "serve", "--log-level", "warning", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    dimse_port = free_port()
    process = _serve(tmp_path, "--port", str(port), "--dimse-port", str(dimse_port))
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, "cloudpacs serve")
        assert (tmp_path / "data" / ".running").exists()
        status = httpx.get(f"http://127.0.0.1:{port}/api/v1/system/status").json()
        assert status["components"]["dimse"]["status"] == "ok"
        assert status["components"]["dimse"]["port"] == dimse_port
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    assert not (tmp_path / "data" / ".running").exists()


def test_serve_refuses_unauthenticated_non_loopback(tmp_path: Path) -> None:
    process = _serve(tmp_path, "--host", "0.0.0.0", "--port", str(free_port()), "--no-dimse")
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert b"loopback" in stderr
