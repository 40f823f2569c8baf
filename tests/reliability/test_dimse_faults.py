"""The DIMSE bridge under peer faults (DESIGN.md §6; PS3.8 §9.3, Annex D state machine).

Protects:
- a connection closed, or an A-ABORT sent, in the middle of a C-STORE data set: the stores
  acknowledged before it are stored intact, the interrupted one is neither indexed nor on
  disk (not even as a temporary file), the repair sweep finds nothing, and the bridge serves
  the next association; the same after DCMTK ``storescu --abort`` (A-ABORT after its stores);
- peers that stall are dropped after the configured timeouts and free their association
  slot: silent (ACSE timeout), part of a PDU then nothing (network timeout; it used to hold
  its slot for ever, see ``dimse_bridge.transport``), an idle association (network timeout,
  A-ABORT); others are served meanwhile;
- past ``max_associations`` an A-ASSOCIATE-RQ is rejected transiently, local limit exceeded
  (PS3.8 Table 9-21: result 2, source 3, reason 2); the accepted associations complete and
  new ones are accepted once they end.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE
from pynetdicom.association import Association

from tests.dimse.factory import ct_instance, part10, write_study
from tests.dimse.harness import BRIDGE_AE, Bridge, call_dcmtk, start_bridge
from tests.reliability.dimse_archive import check_archive, check_serving, sent
from tests.reliability.dimse_peer import RawPeer, a_abort, associate_rq, c_store_pdus

TIMEOUT = 1.0
"""ACSE, DIMSE and network timeouts of the bridge under test (seconds)."""
LIMIT = 2


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    running = start_bridge(
        tmp_path,
        acse_timeout=TIMEOUT,
        dimse_timeout=TIMEOUT,
        network_timeout=TIMEOUT,
        max_associations=LIMIT,
    )
    yield running
    running.server.stop(grace=2)


def wait_until_idle(bridge: Bridge, within: float = 15) -> None:
    """Wait for the bridge to end every association; fail if one outlives ``within``."""
    deadline = time.monotonic() + within
    while bridge.server.server.active_associations and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bridge.server.server.active_associations == [], "an association was never ended"


def _store_rq() -> bytes:
    return associate_rq("CT_SCANNER_1", BRIDGE_AE, CTImageStorage, ExplicitVRLittleEndian)


def _instances(count: int, rows: int = 64) -> list[bytes]:
    study, series = generate_uid(), generate_uid()
    return [part10(ct_instance(study, series, n, rows=rows)) for n in range(1, count + 1)]


def _dataset(data: bytes) -> Dataset:
    return dcmread(io.BytesIO(data))


def _store_scu(calling: str = "CT_SCANNER_1") -> AE:
    ae = AE(ae_title=calling)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.acse_timeout = 10
    return ae


@pytest.mark.parametrize("ending", ["close", "abort"])
def test_association_ended_in_the_middle_of_a_data_set(bridge: Bridge, ending: str) -> None:
    objects = [sent(o) for o in _instances(3)]
    peer = RawPeer(bridge.port)
    peer.associate(_store_rq())
    for n, item in enumerate(objects[:2], start=1):
        assert peer.store(CTImageStorage, item.sop, item.data_set, message_id=n) == 0x0000
    pdus = c_store_pdus(CTImageStorage, objects[2].sop, objects[2].data_set, message_id=3)
    assert len(pdus) > 3  # the command, then several fragments of the data set
    for pdu in pdus[: len(pdus) // 2]:
        peer.send(pdu)
    if ending == "abort":
        peer.send(a_abort())
        assert peer.closed_by_bridge()
    peer.close()
    wait_until_idle(bridge)
    check_archive(bridge, objects[:2])
    assert [e["action"] for e in bridge.audit()].count("store") == 2
    check_serving(bridge.port)


def test_pynetdicom_abort_after_completed_stores(bridge: Bridge) -> None:
    objects = _instances(3)
    assoc = _store_scu().associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)
    assert assoc.is_established
    statuses = [assoc.send_c_store(_dataset(o)).Status for o in objects]
    assoc.abort()
    assert statuses == [0x0000] * 3
    wait_until_idle(bridge)
    check_archive(bridge, [sent(o) for o in objects])
    check_serving(bridge.port)


def test_storescu_abort_after_its_stores(bridge: Bridge, tmp_path: Path, dcmtk: None) -> None:
    study = write_study(tmp_path / "in", count=4)
    done = call_dcmtk("storescu", "CT_SCANNER_2", bridge.port, *study.files, options=["--abort"])
    assert done.returncode == 0, done.stdout + done.stderr
    wait_until_idle(bridge)
    check_archive(bridge, [sent(f.read_bytes()) for f in study.files])
    check_serving(bridge.port)


STALLS = {
    "silent": b"",
    "part_of_a_pdu_header": b"\x01\x00",
    "part_of_an_associate_rq": _store_rq()[:40],
}


@pytest.mark.parametrize("stall", [*STALLS, "part_of_a_data_set", "idle_association"])
def test_stalled_peer_is_dropped_and_frees_its_slot(bridge: Bridge, stall: str) -> None:
    peer = RawPeer(bridge.port, timeout=20 * TIMEOUT)
    if stall in STALLS:
        peer.send(STALLS[stall])
    else:
        peer.associate(_store_rq())
        if stall == "part_of_a_data_set":
            [item] = [sent(o) for o in _instances(1)]
            command, data, *_ = c_store_pdus(CTImageStorage, item.sop, item.data_set, 1)
            peer.send(command + data[: len(data) // 2])
    check_serving(bridge.port)  # served while the stalled peer holds its connection
    assert peer.closed_by_bridge(), "the bridge kept a stalled peer past its timeouts"
    peer.close()
    wait_until_idle(bridge)
    held = [_store_scu().associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)]
    held.append(_store_scu().associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE))
    assert all(a.is_established for a in held)  # every slot is free again
    for assoc in held:
        assoc.release()
    check_archive(bridge, [])


def test_associations_past_the_limit_are_rejected_and_nothing_is_lost(bridge: Bridge) -> None:
    accepted = [
        _store_scu(f"CT_SCANNER_{n}").associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)
        for n in range(LIMIT)
    ]
    assert all(a.is_established for a in accepted)
    extra: list[Association] = []
    lock = threading.Lock()

    def knock(n: int) -> None:
        assoc = _store_scu(f"CT_SCANNER_X{n}").associate(
            "127.0.0.1", bridge.port, ae_title=BRIDGE_AE
        )
        with lock:
            extra.append(assoc)

    knockers = [threading.Thread(target=knock, args=(n,)) for n in range(4)]
    for thread in knockers:
        thread.start()
    objects = _instances(2 * LIMIT, rows=16)
    statuses = []
    for n, assoc in enumerate(accepted):  # stores go on while the extra peers are refused
        for data in objects[2 * n : 2 * n + 2]:
            statuses.append(assoc.send_c_store(_dataset(data)).Status)
    for thread in knockers:
        thread.join(timeout=30)
    for assoc in accepted:
        assoc.release()
    assert statuses == [0x0000] * len(objects)
    assert len(extra) == 4 and all(a.is_rejected for a in extra)
    for assoc in extra:
        rj = assoc.acceptor.primitive
        assert rj is not None
        assert (rj.result, rj.result_source, rj.diagnostic) == (0x02, 0x03, 0x02)
    reasons = [e.get("reason") for e in bridge.audit() if e["action"] == "associate"]
    assert reasons.count("too_many_associations") == 4
    wait_until_idle(bridge)
    check_archive(bridge, [sent(o) for o in objects])
    check_serving(bridge.port)
