"""The bridge's changes to pynetdicom's transport (``dimse_bridge.transport``).

Protects: a PDU is read whole into one buffer, however the peer's bytes are split; a peer
that closes mid-PDU gives what arrived (pynetdicom then treats the connection as closed);
pynetdicom's per-PDU logging handlers are not bound to the bridge's associations; a
connection whose descriptor is past 1023 (``select``'s limit) is served, and so is a C-MOVE
whose sub-association's descriptor is (DCMTK ``movescu`` and ``storescp`` as the peers).
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydicom.uid import generate_uid
from pynetdicom import evt

from dimse_bridge.polling import readable
from dimse_bridge.transport import QuickAckSocket
from tests.dimse.factory import ct_instance, dataset_bytes, part10
from tests.dimse.harness import (
    Bridge,
    accepted_association,
    associate,
    call_dcmtk,
    start_bridge,
)
from tests.support.server import free_port


def _reading_socket(peer: socket.socket) -> QuickAckSocket:
    sock = QuickAckSocket.__new__(QuickAckSocket)
    sock.socket = peer
    return sock


def _send_in_pieces(sender: socket.socket, data: bytes, piece: int, close: bool) -> None:
    for start in range(0, len(data), piece):
        sender.sendall(data[start : start + piece])
        time.sleep(0.001)
    if close:
        sender.close()


def test_a_pdu_split_in_many_pieces_is_read_whole() -> None:
    reader, sender = socket.socketpair()
    body = os.urandom(300_000)
    writer = threading.Thread(target=_send_in_pieces, args=(sender, body + b"next", 7_777, False))
    writer.start()
    try:
        sock = _reading_socket(reader)
        assert sock.recv(len(body)) == body
        assert sock.recv(4) == b"next"
    finally:
        writer.join()
        reader.close()
        sender.close()


def test_a_peer_closing_mid_pdu_gives_what_arrived() -> None:
    reader, sender = socket.socketpair()
    sent = os.urandom(50_000)
    writer = threading.Thread(target=_send_in_pieces, args=(sender, sent, 10_000, True))
    writer.start()
    try:
        assert _reading_socket(reader).recv(131_072) == sent
    finally:
        writer.join()
        reader.close()


def test_pynetdicom_logging_handlers_are_not_bound(bridge: Bridge) -> None:
    assoc = associate(bridge.port, "WORKSTATION_1")
    assert assoc.is_established
    try:
        accepted = accepted_association(bridge)
        for event in (evt.EVT_PDU_RECV, evt.EVT_PDU_SENT, evt.EVT_DIMSE_RECV, evt.EVT_DIMSE_SENT):
            assert accepted.get_handlers(event) == []
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()


@pytest.fixture
def descriptors_past_select() -> Iterator[None]:
    with _descriptors_past_select():
        yield


@contextmanager
def _descriptors_past_select() -> Iterator[None]:
    """This process's next descriptors are past 1023, as in a busy ``cloudpacs serve``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2048
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the open-files hard limit ({hard}) is below {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    null = os.open(os.devnull, os.O_RDONLY)
    held = [null]
    try:
        while held[-1] < 1100:
            held.append(os.dup(null))
        yield
    finally:
        for descriptor in held:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_connection_past_descriptor_1023_is_served(
    bridge: Bridge, dcmtk: None, descriptors_past_select: None
) -> None:
    done = call_dcmtk("echoscu", "WORKSTATION_1", bridge.port)
    assert done.returncode == 0, done.stdout + done.stderr
    [event] = [e for e in bridge.audit() if e["action"] == "echo"]
    assert event["outcome"] == "success"


def test_readable_finds_data_and_refuses_a_closed_socket() -> None:
    reader, sender = socket.socketpair()
    try:
        assert readable([reader, sender], 0) == []
        sender.sendall(b"x")
        assert readable([reader, sender], 5) == [reader]
        sender.close()
        with pytest.raises(OSError):
            readable([sender], 0)
    finally:
        reader.close()
        sender.close()


def test_a_c_move_past_descriptor_1023_reaches_its_destination(tmp_path: Path, dcmtk: None) -> None:
    port = free_port()
    received = tmp_path / "received"
    received.mkdir()
    storescp = subprocess.Popen(
        ["storescp", "-aet", "STORESCP", "-od", str(received), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bridge = start_bridge(tmp_path, move_destinations={"STORESCP": f"127.0.0.1:{port}"})
    try:
        study = generate_uid()
        stored = part10(ct_instance(study, generate_uid(), 1))
        assert bridge.services.ingest.store(stored).ok
        with _descriptors_past_select():
            done = call_dcmtk(
                "movescu",
                "WORKSTATION_1",
                bridge.port,
                options=[
                    "-S",
                    "-aem",
                    "STORESCP",
                    "-k",
                    "QueryRetrieveLevel=STUDY",
                    "-k",
                    f"StudyInstanceUID={study}",
                ],
            )
        assert done.returncode == 0, done.stdout + done.stderr
        [arrived] = list(received.iterdir())
        assert dataset_bytes(arrived.read_bytes()) == dataset_bytes(stored)
    finally:
        bridge.server.stop()
        storescp.terminate()
        storescp.wait(timeout=10)
