"""Association admission and C-ECHO (PS3.8 §7.1.1, Table 9-21; PS3.7 §9.1.5).

Protects: unknown calling AE titles and wrong called AE titles are rejected (permanent,
service user, diagnostics 3 and 7); the association limit rejects with a transient local
limit; every association leaves one audit event; C-ECHO works for pynetdicom and DCMTK.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from pynetdicom.association import Association

from cloudpacs.runtime import build_services
from cloudpacs.settings import load_settings
from dimse_bridge.server import start
from dimse_bridge.settings import load_dimse_settings
from tests.dimse.harness import Bridge, associate, call_dcmtk, start_bridge


def _rejection(assoc: Association) -> tuple[int, int, int]:
    """(result, source, diagnostic) of the A-ASSOCIATE-RJ the bridge sent."""
    rj = assoc.acceptor.primitive
    assert rj is not None
    return (rj.result, rj.result_source, rj.diagnostic)  # type: ignore[return-value]


def test_echo_from_a_known_ae_is_audited(bridge: Bridge) -> None:
    assoc = associate(bridge.port, "WORKSTATION_1")
    assert assoc.is_established
    status = assoc.send_c_echo()
    assoc.release()
    assert status.Status == 0x0000
    events = bridge.audit()
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("associate", "success"),
        ("echo", "success"),
    ]
    assert {e["actor"] for e in events} == {"WORKSTATION_1"}
    assert events[0]["roles"] == ["viewer"]
    assert events[1]["request_id"].startswith(events[0]["request_id"] + "-")
    assert events[0]["entry_point"] == "dimse" and events[0]["auth_method"] == "ae_title"


def test_unknown_calling_ae_is_rejected(bridge: Bridge) -> None:
    assoc = associate(bridge.port, "INTRUDER")
    assert assoc.is_rejected
    assert _rejection(assoc) == (0x01, 0x01, 0x03)
    [event] = bridge.audit()
    assert event["action"] == "associate" and event["outcome"] == "denied"
    assert event["reason"] == "calling_ae_not_recognized" and event["roles"] == []


def test_wrong_called_ae_is_rejected(bridge: Bridge) -> None:
    assoc = associate(bridge.port, "WORKSTATION_1", called="SOMEONE_ELSE")
    assert assoc.is_rejected
    assert _rejection(assoc) == (0x01, 0x01, 0x07)
    [event] = bridge.audit()
    assert event["reason"] == "called_ae_not_recognized"


def test_association_limit_rejects_transiently(tmp_path: Path) -> None:
    running = start_bridge(tmp_path, max_associations=1)
    try:
        first = associate(running.port, "ADMIN")
        assert first.is_established
        second = associate(running.port, "ADMIN")
        assert second.is_rejected
        assert _rejection(second) == (0x02, 0x03, 0x02)
        first.release()
        reasons = [e.get("reason") for e in running.audit()]
        assert "too_many_associations" in reasons
    finally:
        running.server.stop(grace=2)


def test_dcmtk_echoscu(bridge: Bridge, dcmtk: None) -> None:
    ok = call_dcmtk("echoscu", "WORKSTATION_7", bridge.port)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    refused = call_dcmtk("echoscu", "NOBODY", bridge.port)
    assert refused.returncode != 0
    assert "Calling AE Title Not Recognized" in refused.stdout + refused.stderr
    time.sleep(0.2)
    outcomes = [(e["actor"], e["action"], e["outcome"]) for e in bridge.audit()]
    assert ("WORKSTATION_7", "echo", "success") in outcomes
    assert ("NOBODY", "associate", "denied") in outcomes


def test_silent_connections_do_not_hold_association_slots(tmp_path: Path) -> None:
    """Health checks connect and close without a word (load balancers, HEALTHCHECK)."""
    running = start_bridge(tmp_path, max_associations=1)
    try:
        for _ in range(3):
            socket.create_connection(("127.0.0.1", running.port), timeout=2).close()
        assoc = associate(running.port, "ADMIN")
        assert assoc.is_established
        assoc.release()
        assert [e["action"] for e in running.audit()] == ["associate"]
    finally:
        running.server.stop(grace=2)


class _BrokenSink:
    def emit(self, event: object) -> None:
        raise OSError("audit trail unavailable")


def test_association_that_cannot_be_audited_is_aborted(tmp_path: Path) -> None:
    core = load_settings(data_dir=tmp_path, fsync=False)
    running = start(build_services(core), core, load_dimse_settings(port=0), audit=_BrokenSink())
    try:
        assoc = associate(running.port, "ANY_AE")
        deadline = time.monotonic() + 5
        while not assoc.is_aborted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert assoc.is_aborted
    finally:
        running.stop(grace=1)
