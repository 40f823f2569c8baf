"""C-STORE (PS3.4 B.2): stored as received, refused without the store permission.

Protects: the data set is stored byte for byte as the SCU encoded it, in its transfer
syntax, compressed ones included (DESIGN.md §4); WADO-RS returns the very bytes stored; a
viewer AE's C-STORE gets 0x0124 Refused: Not Authorized (PS3.7 Annex C) and stores nothing;
a different object under a stored SOP Instance UID gets 0x0111 (duplicate policy ``reject``);
each C-STORE leaves one audit event with the instance's UIDs.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import CTImageStorage, generate_uid
from pynetdicom import AE

from tests.dimse.factory import compressed_sample, ct_instance, dataset_bytes, write_study
from tests.dimse.harness import BRIDGE_AE, Bridge, call_dcmtk


def _store_scu(calling: str) -> AE:
    ae = AE(ae_title=calling)
    ae.add_requested_context(CTImageStorage)
    return ae


def test_technologist_stores_and_each_store_is_audited(bridge: Bridge) -> None:
    study, series = generate_uid(), generate_uid()
    assoc = _store_scu("CT_SCANNER_1").associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)
    assert assoc.is_established
    statuses = [assoc.send_c_store(ct_instance(study, series, n)).Status for n in (1, 2)]
    assoc.release()
    assert statuses == [0x0000, 0x0000]
    assert len(bridge.services.retrieve.instances(study)) == 2
    stores = [e for e in bridge.audit() if e["action"] == "store"]
    assert len(stores) == 2
    assert all(e["outcome"] == "success" and e["study_uid"] == study for e in stores)
    assert all(e["series_uid"] == series and e["instance_count"] == 1 for e in stores)


def test_viewer_store_is_refused_not_authorized(bridge: Bridge) -> None:
    ds = ct_instance(generate_uid(), generate_uid(), 1)
    assoc = _store_scu("WORKSTATION_2").associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0x0124
    assert bridge.services.index.get_study(ds.StudyInstanceUID) is None
    [event] = [e for e in bridge.audit() if e["action"] == "store"]
    assert (event["outcome"], event["status"], event["reason"]) == ("denied", 0x0124, "forbidden")
    assert event["sop_uid"] == ds.SOPInstanceUID


def test_different_object_under_a_stored_uid_is_a_duplicate(bridge: Bridge) -> None:
    ds = ct_instance(generate_uid(), generate_uid(), 1)
    assoc = _store_scu("CT_SCANNER_1").associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)
    first = assoc.send_c_store(ds).Status
    again = assoc.send_c_store(ds).Status
    ds.StudyDescription = "changed"
    changed = assoc.send_c_store(ds).Status
    assoc.release()
    assert (first, again, changed) == (0x0000, 0x0000, 0x0111)
    reasons = [e["reason"] for e in bridge.audit() if e["action"] == "store"]
    assert reasons == [None, None, "duplicate_sop_instance"]


def test_storescu_study_comes_back_byte_identical(
    bridge: Bridge, tmp_path: Path, dcmtk: None
) -> None:
    study = write_study(tmp_path / "in", count=4)
    done = call_dcmtk("storescu", "CT_SCANNER_9", bridge.port, *study.files)
    assert done.returncode == 0, done.stdout + done.stderr
    records = {r.sop_uid: r for r in bridge.services.retrieve.instances(study.study_uid)}
    assert len(records) == 4
    client = bridge.web()
    for path in study.files:
        original = path.read_bytes()
        rec = records[dcmread(path, stop_before_pixels=True).SOPInstanceUID]
        stored = bridge.services.retrieve.read(rec)
        assert dataset_bytes(stored) == dataset_bytes(original)
        meta = dcmread(path.parent / path.name, stop_before_pixels=True).file_meta
        assert (
            dcmread(_as_file(stored, tmp_path), stop_before_pixels=True)
            .file_meta["SourceApplicationEntityTitle"]
            .value
            == "CT_SCANNER_9"
        )
        assert meta.TransferSyntaxUID == rec.transfer_syntax_uid
        url = f"/dicom-web/studies/{rec.study_uid}/series/{rec.series_uid}/instances/{rec.sop_uid}"
        wado = client.get(url, headers={"Accept": "application/dicom"})
        assert wado.status_code == 200
        assert wado.content == stored


@pytest.mark.parametrize(
    ("sample", "propose"),
    [
        ("JPEG2000.dcm", ["-xw", "+C"]),
        ("MR_small_RLE.dcm", ["-xr", "+C"]),
        ("SC_rgb_jls_lossy_sample.dcm", ["-xu", "+C"]),
        ("SC_rgb_jpeg_dcmtk.dcm", ["-xy", "+C"]),
        ("image_dfl.dcm", ["-xd"]),
    ],
)
def test_compressed_objects_are_stored_in_their_transfer_syntax(
    bridge: Bridge, tmp_path: Path, dcmtk: None, sample: str, propose: list[str]
) -> None:
    """``+C`` offers the encapsulated syntax and the native ones in one context: the bridge
    must pick the encapsulated original. (Offered together, native beats deflate: native
    objects get frame offsets; so deflate is offered in a context of its own.)"""
    path = compressed_sample(sample, tmp_path)
    original = dcmread(path)
    done = call_dcmtk("storescu", "CT_SCANNER_3", bridge.port, path, options=propose)
    assert done.returncode == 0, done.stdout + done.stderr
    [rec] = bridge.services.retrieve.instances(original.StudyInstanceUID)
    assert rec.transfer_syntax_uid == original.file_meta.TransferSyntaxUID
    stored = dcmread(io.BytesIO(bridge.services.retrieve.read(rec)))
    # storescu re-encodes sequence lengths and drops trailing padding (PS3.10 7.2), so
    # compare values, and the pixel data bytes.
    original.pop(0xFFFCFFFC, None)
    assert stored.PixelData == original.PixelData
    assert stored == original


def _as_file(data: bytes, folder: Path) -> Path:
    path = folder / "stored.dcm"
    path.write_bytes(data)
    return path
