"""C-STORE responses encoded directly (PS3.7 §9.3.1.2, Table 9.3-2).

pynetdicom sends a response by building its command set as a pydicom dataset, encoding it
once to learn the group length and again to send it: about 0.45 ms of the interpreter for
each instance a modality stores, while the modality waits for it. A plain C-STORE-RSP (a
status, no Error Comment or Offending Element) is seven elements of a fixed layout, in
Implicit VR Little Endian as every command set is (PS3.7 §6.3.1); ``StoreResponses`` writes
those bytes and sends them as pynetdicom would, one P-DATA with the last command fragment.
Anything else, and any response while a handler is bound to ``EVT_DIMSE_SENT``, takes
pynetdicom's own path.
"""

from __future__ import annotations

import struct
from typing import Any

from pynetdicom import evt
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu_primitives import P_DATA

C_STORE_RSP = 0x8001
NO_DATA_SET = 0x0101
LAST_COMMAND_FRAGMENT = b"\x03"
"""Message Control Header: a command, its last fragment (PS3.8 Annex E.2)."""
PDV_HEADER = 6
"""Item length, presentation context ID and message control header of a fragment (PS3.8
§9.3.5.1): a PDU of ``maximum_pdu_size`` holds a fragment that much shorter."""


def _uid(element: int, uid: str) -> bytes:
    value = uid.encode("ascii", "replace")
    if len(value) % 2:
        value += b"\x00"
    return struct.pack("<HHI", 0x0000, element, len(value)) + value


def _us(element: int, value: int) -> bytes:
    return struct.pack("<HHIH", 0x0000, element, 2, value)


def c_store_rsp(message_id: int, sop_class: str, sop_instance: str, status: int) -> bytes:
    """The command set of a C-STORE-RSP, its group length first."""
    body = b"".join(
        (
            _uid(0x0002, sop_class),
            _us(0x0100, C_STORE_RSP),
            _us(0x0120, message_id),
            _us(0x0800, NO_DATA_SET),
            _us(0x0900, status),
            _uid(0x1000, sop_instance),
        )
    )
    return struct.pack("<HHII", 0x0000, 0x0000, 4, len(body)) + body


class StoreResponses(DIMSEServiceProvider):
    """The DIMSE provider of an accepted association, plain C-STORE responses encoded here."""

    def send_msg(self, primitive: Any, context_id: int) -> None:
        command = self._plain_store_response(primitive)
        maximum = self.maximum_pdu_size
        if command is None or (maximum and len(command) > maximum - PDV_HEADER):
            super().send_msg(primitive, context_id)
            return
        pdata = P_DATA()
        pdata.presentation_data_value_list.append((context_id, LAST_COMMAND_FRAGMENT + command))
        self.dul.send_pdu(pdata)

    def _plain_store_response(self, primitive: Any) -> bytes | None:
        if (
            not isinstance(primitive, C_STORE)
            or primitive.MessageIDBeingRespondedTo is None
            or primitive.Status is None
            or primitive.ErrorComment is not None
            or primitive.OffendingElement is not None
            or not primitive.AffectedSOPClassUID
            or not primitive.AffectedSOPInstanceUID
            or self.assoc.get_handlers(evt.EVT_DIMSE_SENT)
        ):
            return None
        return c_store_rsp(
            int(primitive.MessageIDBeingRespondedTo),
            str(primitive.AffectedSOPClassUID or ""),
            str(primitive.AffectedSOPInstanceUID or ""),
            int(primitive.Status),
        )
