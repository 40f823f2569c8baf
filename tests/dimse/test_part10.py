"""The File Meta Information the bridge writes before a received data set (PS3.10 §7.1).

Protects: the direct encoding is byte for byte what pydicom writes for pynetdicom's
``Event.file_meta`` with the Source AE Title added, for even and odd value lengths; a stored
C-STORE object reads back with those values.
"""

from __future__ import annotations

import io

import pytest
from pydicom import dcmread
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.dsutils import create_file_meta, encode_file_meta

from dimse_bridge.part10 import PREAMBLE, file_meta
from tests.dimse.factory import ct_instance
from tests.dimse.harness import BRIDGE_AE, Bridge


@pytest.mark.parametrize(
    ("sop_instance", "transfer_syntax", "source_ae"),
    [
        ("1.2.3.4", ExplicitVRLittleEndian, "CT_SCANNER_1"),
        ("1.2.3.45", ImplicitVRLittleEndian, "CT1"),
        ("2.25.339508155294391736541286429451178227893", "1.2.840.10008.1.2.4.50", "A"),
    ],
)
def test_file_meta_is_what_pydicom_writes(
    sop_instance: str, transfer_syntax: str, source_ae: str
) -> None:
    meta = create_file_meta(
        sop_class_uid=CTImageStorage,
        sop_instance_uid=sop_instance,
        transfer_syntax=transfer_syntax,
    )
    meta.SourceApplicationEntityTitle = source_ae
    expected = encode_file_meta(meta)
    assert file_meta(CTImageStorage, sop_instance, transfer_syntax, source_ae) == expected


def test_a_stored_object_carries_the_file_meta_of_its_c_store(bridge: Bridge) -> None:
    ds = ct_instance("1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.2", 1)
    ae = AE(ae_title="CT_SCANNER_1")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)
    assert assoc.is_established
    try:
        assert assoc.send_c_store(ds).Status == 0x0000
    finally:
        assoc.release()
    [record] = bridge.services.retrieve.instances(str(ds.StudyInstanceUID))
    stored = bridge.services.retrieve.read(record)
    assert stored.startswith(PREAMBLE)
    meta = dcmread(io.BytesIO(stored)).file_meta
    assert meta.MediaStorageSOPClassUID == CTImageStorage
    assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert meta.SourceApplicationEntityTitle == "CT_SCANNER_1"
