"""Start-up, graceful shutdown and settings of the bridge (dimse_bridge/README.md).

Protects: ``stop`` refuses new connections at once but lets an association in flight finish
its C-STOREs; associations still open after the grace period are aborted; ``python -m
dimse_bridge`` serves, passes its container health check and exits 0 on SIGTERM; settings
refuse a non-loopback bind without an AE whitelist and read destinations as ``host:port``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydicom.uid import CTImageStorage, generate_uid
from pynetdicom import AE

from cloudpacs.settings import SettingsError
from dimse_bridge.settings import load_dimse_settings
from tests.dimse.factory import ct_instance
from tests.dimse.harness import BRIDGE_AE, start_bridge
from tests.support.server import free_port


def _connect_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def _store_scu() -> AE:
    ae = AE(ae_title="CT_SCANNER_1")
    ae.add_requested_context(CTImageStorage)
    return ae


def test_stop_lets_the_association_in_flight_finish(tmp_path: Path) -> None:
    running = start_bridge(tmp_path)
    assoc = _store_scu().associate("127.0.0.1", running.port, ae_title=BRIDGE_AE)
    assert assoc.is_established
    stopper = threading.Thread(target=running.server.stop, kwargs={"grace": 10})
    stopper.start()
    deadline = time.monotonic() + 5
    while not _connect_refused(running.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _connect_refused(running.port)
    ds = ct_instance(generate_uid(), generate_uid(), 1)
    assert assoc.send_c_store(ds).Status == 0x0000
    assert stopper.is_alive()
    assoc.release()
    stopper.join(timeout=5)
    assert not stopper.is_alive()
    assert running.services.retrieve.instances(ds.StudyInstanceUID)


def test_associations_past_the_grace_period_are_aborted(tmp_path: Path) -> None:
    running = start_bridge(tmp_path)
    assoc = _store_scu().associate("127.0.0.1", running.port, ae_title=BRIDGE_AE)
    assert assoc.is_established
    started = time.monotonic()
    running.server.stop(grace=0.5)
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while assoc.is_established and time.monotonic() < deadline:
        time.sleep(0.05)
    assert assoc.is_aborted


def test_module_entry_point_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CLOUDPACS_DATA_DIR": str(tmp_path / "data"),
        "CLOUDPACS_FSYNC": "false",
        "CLOUDPACS_DIMSE_PORT": str(port),
        "CLOUDPACS_DIMSE_AE_ROLES": '{"CT_SCANNER_*": "technologist"}',
    }
    proc = subprocess.Popen([sys.executable, "-m", "dimse_bridge"], env=env, cwd=Path.cwd())
    try:
        health = [sys.executable, "-m", "dimse_bridge.healthcheck"]
        deadline = time.monotonic() + 20
        while subprocess.run(health, env=env, capture_output=True).returncode != 0:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        ae = AE(ae_title="CT_SCANNER_1")
        ae.add_requested_context("1.2.840.10008.1.1")
        assoc = ae.associate("127.0.0.1", port, ae_title=BRIDGE_AE)
        assert assoc.is_established and assoc.send_c_echo().Status == 0
        assoc.release()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert (tmp_path / "data" / "audit.jsonl").read_text().count('"action":"echo"') == 1
    finally:
        if proc.poll() is None:
            proc.kill()


def test_non_loopback_bind_needs_an_ae_whitelist() -> None:
    with pytest.raises(SettingsError, match="AE_ROLES"):
        load_dimse_settings(host="0.0.0.0")
    assert load_dimse_settings(host="0.0.0.0", ae_roles={"PACS": "viewer"}).host == "0.0.0.0"
    local = load_dimse_settings(host="127.0.0.1")
    assert local.role_map().roles_for("ANYONE") == {"admin"}


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPACS_DIMSE_AE_ROLES", '{"CT_*": "technologist", "WS_*": ["viewer"]}')
    monkeypatch.setenv("CLOUDPACS_DIMSE_MOVE_DESTINATIONS", '{"WS_1": "10.0.0.5:104"}')
    settings = load_dimse_settings()
    assert settings.move_destinations["WS_1"].host == "10.0.0.5"
    assert settings.move_destinations["WS_1"].port == 104
    assert settings.role_map().roles_for("WS_9") == {"viewer"}
    assert settings.role_map().roles_for("MR_1") == frozenset()


@pytest.mark.parametrize(
    "bad",
    [
        {"ae_roles": {"CT_*": "surgeon"}},
        {"move_destinations": {"WS": "no-port"}},
        {"tls_cert": "/tmp/cert.pem"},
        {"ae_title": "A\\B"},
    ],
)
def test_invalid_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(SettingsError):
        load_dimse_settings(**bad)
