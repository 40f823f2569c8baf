"""The bridge's changes to pynetdicom's transport (``dimse_bridge.transport``).

Protects: a PDU is read whole into one buffer, however the peer's bytes are split; a peer
that closes mid-PDU gives what arrived (pynetdicom then treats the connection as closed);
pynetdicom's per-PDU logging handlers are not bound to the bridge's associations.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from pynetdicom import AE, evt

from dimse_bridge.transport import QuickAckSocket
from tests.dimse.harness import BRIDGE_AE, Bridge

VERIFICATION = "1.2.840.10008.1.1"


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
    ae = AE(ae_title="WORKSTATION_1")
    ae.add_requested_context(VERIFICATION)
    assoc = ae.associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)
    assert assoc.is_established
    try:
        [accepted] = bridge.server.server.active_associations
        for event in (evt.EVT_PDU_RECV, evt.EVT_PDU_SENT, evt.EVT_DIMSE_RECV, evt.EVT_DIMSE_SENT):
            assert accepted.get_handlers(event) == []
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()
