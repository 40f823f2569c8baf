"""A DICOM peer on a raw socket, for faults a well-behaved SCU never makes: it stops half-way
through a PDU or a data set, aborts between fragments, or stays silent (PS3.8 §9.3).

The PDUs are pynetdicom's own encodings, so what reaches the bridge is valid up to the point
where the peer breaks off.
"""

from __future__ import annotations

import socket
import struct
from io import BytesIO

from pynetdicom.dimse_messages import C_STORE_RQ, C_STORE_RSP
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu import A_ABORT_RQ, A_ASSOCIATE_RQ, P_DATA_TF
from pynetdicom.pdu_primitives import (
    A_ASSOCIATE,
    ImplementationClassUIDNotification,
    MaximumLengthNotification,
)
from pynetdicom.presentation import build_context

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
ASSOCIATE_AC = 0x02
CONTEXT_ID = 1
PDU_LENGTH = 4096
"""Small P-DATA PDUs, so that even a small data set takes several of them."""


def associate_rq(calling: str, called: str, sop_class: str, syntax: str) -> bytes:
    """An A-ASSOCIATE-RQ proposing one presentation context (id 1)."""
    request = A_ASSOCIATE()
    request.application_context_name = APPLICATION_CONTEXT
    request.calling_ae_title = calling
    request.called_ae_title = called
    max_length = MaximumLengthNotification()
    max_length.maximum_length_received = PDU_LENGTH
    implementation = ImplementationClassUIDNotification()
    implementation.implementation_class_uid = "1.2.826.0.1.3680043.9.7433.1.1"
    request.user_information = [max_length, implementation]
    context = build_context(sop_class, [syntax])
    context.context_id = CONTEXT_ID
    request.presentation_context_definition_list = [context]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(request)
    return bytes(pdu.encode())


def c_store_pdus(sop_class: str, sop: str, data_set: bytes, message_id: int) -> list[bytes]:
    """The P-DATA-TF PDUs of a C-STORE-RQ: the command, then the data set in fragments."""
    request = C_STORE()
    request.MessageID = message_id
    request.AffectedSOPClassUID = sop_class
    request.AffectedSOPInstanceUID = sop
    request.Priority = 2
    request.DataSet = BytesIO(data_set)
    message = C_STORE_RQ()
    message.primitive_to_message(request)
    return [bytes(P_DATA_TF(p).encode()) for p in message.encode_msg(CONTEXT_ID, PDU_LENGTH)]


def a_abort() -> bytes:
    """An A-ABORT from the service user (source 0, PS3.8 Table 9-26)."""
    pdu = A_ABORT_RQ()
    pdu.source = 0x00
    pdu.reason_diagnostic = 0x00
    return bytes(pdu.encode())


class RawPeer:
    """One TCP connection to the bridge, driven PDU by PDU."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_pdu(self) -> tuple[int, bytes]:
        """(PDU type, whole PDU); raises ``ConnectionError`` if the bridge closed."""
        header = self._read(6)
        pdu_type, _, length = struct.unpack(">BBL", header)
        return pdu_type, header + self._read(length)

    def associate(self, request: bytes) -> None:
        self.send(request)
        pdu_type, _ = self.read_pdu()
        assert pdu_type == ASSOCIATE_AC, f"association not accepted (PDU type {pdu_type:#x})"

    def store(self, sop_class: str, sop: str, data_set: bytes, message_id: int) -> int:
        """A whole C-STORE; the status of the C-STORE-RSP."""
        for pdu in c_store_pdus(sop_class, sop, data_set, message_id):
            self.send(pdu)
        response = C_STORE_RSP()
        while True:
            pdu_type, data = self.read_pdu()
            assert pdu_type == 0x04, f"expected P-DATA-TF, got PDU type {pdu_type:#x}"
            received = P_DATA_TF()
            received.decode(data)
            if response.decode_msg(received.to_primitive()):
                return int(response.command_set.Status)

    def closed_by_bridge(self) -> bool:
        """Block until the bridge ends the connection (True) or the socket timeout (False)."""
        try:
            while self.sock.recv(4096):
                pass
        except TimeoutError:
            return False
        except OSError:
            pass
        return True

    def close(self) -> None:
        self.sock.close()

    def _read(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("the bridge closed the connection")
            data += chunk
        return bytes(data)
