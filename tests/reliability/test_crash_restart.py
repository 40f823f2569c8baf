"""The embedded server killed (SIGKILL) in the middle of a STOW-RS of 50 instances, then
started again (DESIGN.md §6; ``unclean_stop.py``): every instance QIDO-RS lists is
retrievable with the bytes that were sent, and the repair sweep leaves nothing to do."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.server_process import wait_until_up
from cloudpacs.multipart import closing, part_header
from cloudpacs.runtime import build_services
from cloudpacs.services.repair import RepairService
from cloudpacs.settings import load_settings
from tests.support.server import free_port
from tests.support.synthetic import ct_study

INSTANCES = 50
BOUNDARY = "crash-test-boundary"


def _serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLOUDPACS_DATA_DIR": str(data), "CLOUDPACS_FSYNC": "true"}
    command = [sys.executable, "-m", "cloudpacs.cli", "serve", "--port", str(port), "--no-dimse"]
    command += ["--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stored_files(data: Path) -> int:
    return sum(1 for _ in (data / "objects").rglob("*.dcm"))


def test_sigkill_mid_stow_then_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    study, objects = ct_study(INSTANCES, series=2, rows=32, columns=32)
    sent = {hashlib.sha256(o).hexdigest() for o in objects}
    parts = [part_header("application/dicom", BOUNDARY) + o + b"\r\n" for o in objects]
    length = sum(map(len, parts)) + len(closing(BOUNDARY))
    port = free_port()
    server = _serve(data, port)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", server, "cloudpacs serve")
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(
                (
                    "POST /dicom-web/studies HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f'Content-Type: multipart/related; type="application/dicom"; '
                    f"boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\r\n"
                ).encode()
            )
            deadline = time.monotonic() + 60
            for part in parts:  # one part at a time: each is stored as it arrives
                sock.sendall(part)
                if _stored_files(data) >= 10 or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            server.send_signal(signal.SIGKILL)  # mid-request: the closing delimiter never sent
            server.wait(timeout=30)
    finally:
        server.kill()
    assert 0 < _stored_files(data) < INSTANCES

    server = _serve(data, port)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", server, "cloudpacs serve (restart)")
        settings = load_settings(data_dir=data, fsync=False)
        services = build_services(settings)
        repair = RepairService(services.index, services.blobs)
        deadline = time.monotonic() + 60  # the restart's own sweep runs in the background
        while (report := repair.sweep(fix=False)).indexed and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (report.indexed, report.dangling, report.unreadable) == ([], [], []), report

        with httpx.Client(base_url=f"http://127.0.0.1:{port}/dicom-web", timeout=30) as http:
            listed = http.get(f"/studies/{study}/instances", params={"limit": "1000"})
            assert listed.status_code == 200
            instances = listed.json()
            assert len(instances) == _stored_files(data)
            for item in instances:
                series, sop = item["0020000E"]["Value"][0], item["00080018"]["Value"][0]
                got = http.get(
                    f"/studies/{study}/series/{series}/instances/{sop}",
                    headers={"Accept": "application/dicom"},
                )
                assert got.status_code == 200
                assert hashlib.sha256(got.content).hexdigest() in sent, sop
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            server.kill()
