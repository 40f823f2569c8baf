"""C-STORE responses the bridge encodes itself (``dimse_bridge.store_response``).

Protects: the command set is byte for byte pynetdicom's for success, warning and failure
statuses and even and odd UID lengths; a response with an Error Comment takes pynetdicom's
path and keeps it; SCUs read the statuses (pynetdicom here, DCMTK in test_store.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.dimse_messages import C_STORE_RSP
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode

from dimse_bridge.store_response import StoreResponses, c_store_rsp
from tests.dimse.factory import ct_instance
from tests.dimse.harness import BRIDGE_AE, Bridge


def _pynetdicom_command(primitive: C_STORE) -> bytes:
    message = C_STORE_RSP()
    message.primitive_to_message(primitive)
    return bytes(encode(message.command_set, True, True))


def _response(message_id: int, sop_instance: str, status: int) -> C_STORE:
    rsp = C_STORE()
    rsp.MessageIDBeingRespondedTo = message_id
    rsp.AffectedSOPClassUID = CTImageStorage
    rsp.AffectedSOPInstanceUID = sop_instance
    rsp.Status = status
    return rsp


@pytest.mark.parametrize(
    ("message_id", "sop_instance", "status"),
    [
        (1, "1.2.3.4", 0x0000),
        (65535, "1.2.3.45", 0xB000),
        (7, "2.25.339508155294391736541286429451178227893", 0xA700),
        (300, "1.2.826.0.1.3680043.8.498.1", 0x0111),
    ],
)
def test_the_command_set_is_pynetdicoms(message_id: int, sop_instance: str, status: int) -> None:
    expected = _pynetdicom_command(_response(message_id, sop_instance, status))
    assert c_store_rsp(message_id, CTImageStorage, sop_instance, status) == expected


def test_a_response_with_an_error_comment_is_left_to_pynetdicom() -> None:
    rsp = _response(3, "1.2.3.4", 0xC000)
    rsp.ErrorComment = "cannot understand"
    provider = StoreResponses.__new__(StoreResponses)
    assert provider._plain_store_response(rsp) is None


def test_stored_and_duplicate_statuses_reach_the_scu(bridge: Bridge) -> None:
    ds = ct_instance(generate_uid(), generate_uid(), 1)
    received: list[Dataset] = []

    def on_response(event: Any) -> None:
        received.append(event.message.command_set)

    ae = AE(ae_title="CT_SCANNER_1")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate(
        "127.0.0.1",
        bridge.port,
        ae_title=BRIDGE_AE,
        evt_handlers=[(evt.EVT_DIMSE_RECV, on_response)],
    )
    assert assoc.is_established
    try:
        first = assoc.send_c_store(ds, msg_id=1)
        ds.StudyDescription = "changed"
        duplicate = assoc.send_c_store(ds, msg_id=2)
    finally:
        assoc.release()
    assert (first.Status, duplicate.Status) == (0x0000, 0x0111)
    assert [(c.MessageIDBeingRespondedTo, c.Status) for c in received] == [(1, 0), (2, 0x0111)]
    assert {c.AffectedSOPInstanceUID for c in received} == {ds.SOPInstanceUID}
    assert {c.AffectedSOPClassUID for c in received} == {CTImageStorage}
    assert {c.CommandDataSetType for c in received} == {0x0101}
