"""C-GET and C-MOVE (PS3.4 C.4.2, C.4.3): the stored bytes go back out.

Protects: every retrieve level selects the right instances; instances leave byte for byte
as stored (the data set; the File Meta Information is the receiver's); an object stored with
STOW-RS comes back through DCMTK ``getscu``; a compressed object goes out decompressed when
the peer accepts only native syntaxes; C-MOVE sends to the destination from settings and
answers 0xA801 for any other; each retrieve leaves one ``retrieve`` audit event.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    CTImageStorage,
    ExplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    generate_uid,
)
from pynetdicom import AE, build_role, evt

from dimse_bridge.contexts import (
    PATIENT_ROOT_GET,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
)
from tests.dimse.factory import compressed_sample, ct_instance, dataset_bytes, part10
from tests.dimse.harness import BRIDGE_AE, Bridge, StorageScp, call_dcmtk, query


def _store(
    bridge: Bridge, count: int = 3, patient_id: str = "PAT-1"
) -> tuple[str, str, list[bytes]]:
    study, series = generate_uid(), generate_uid()
    objects = [
        part10(ct_instance(study, series, n, patient_id=patient_id)) for n in range(1, count + 1)
    ]
    for data in objects:
        assert bridge.services.ingest.store(data).ok
    return study, series, objects


def c_get(
    port: int,
    model: str,
    identifier: Dataset,
    sop_class: str = CTImageStorage,
    syntaxes: list[str] | None = None,
) -> tuple[list[bytes], int]:
    """C-GET as WORKSTATION_1; (received data sets, final status)."""
    received: list[bytes] = []

    def on_store(event: Any) -> int:
        received.append(event.encoded_dataset())
        return 0

    ae = AE(ae_title="WORKSTATION_1")
    ae.add_requested_context(model)
    ae.add_requested_context(sop_class, syntaxes or [ExplicitVRLittleEndian])
    if syntaxes is None:
        ae.add_requested_context(sop_class, [JPEG2000])
    role = build_role(sop_class, scp_role=True)
    assoc = ae.associate(
        "127.0.0.1",
        port,
        ae_title=BRIDGE_AE,
        ext_neg=[role],
        evt_handlers=[(evt.EVT_C_STORE, on_store)],
    )
    assert assoc.is_established
    statuses = [s.Status for s, _ in assoc.send_c_get(identifier, model)]
    assoc.release()
    return received, statuses[-1]


def test_c_get_each_level_returns_the_stored_bytes(bridge: Bridge) -> None:
    study, series, objects = _store(bridge)
    wanted = {dataset_bytes(o) for o in objects}
    by_study, status = c_get(
        bridge.port, STUDY_ROOT_GET, query(QueryRetrieveLevel="STUDY", StudyInstanceUID=study)
    )
    assert status == 0x0000 and {dataset_bytes(r) for r in by_study} == wanted
    by_series, _ = c_get(
        bridge.port,
        STUDY_ROOT_GET,
        query(QueryRetrieveLevel="SERIES", StudyInstanceUID=study, SeriesInstanceUID=series),
    )
    assert {dataset_bytes(r) for r in by_series} == wanted
    one = dcmread_bytes(objects[1]).SOPInstanceUID
    by_image, _ = c_get(
        bridge.port,
        STUDY_ROOT_GET,
        query(
            QueryRetrieveLevel="IMAGE",
            StudyInstanceUID=study,
            SeriesInstanceUID=series,
            SOPInstanceUID=one,
        ),
    )
    assert [dataset_bytes(r) for r in by_image] == [dataset_bytes(objects[1])]
    by_patient, _ = c_get(
        bridge.port, PATIENT_ROOT_GET, query(QueryRetrieveLevel="PATIENT", PatientID="PAT-1")
    )
    assert {dataset_bytes(r) for r in by_patient} == wanted
    events = [e for e in bridge.audit() if e["action"] == "retrieve"]
    assert [e["instance_count"] for e in events] == [3, 3, 1, 3]
    assert events[0]["study_uid"] == study and events[2]["sop_uid"] == one


def test_c_get_without_the_unique_key_is_refused(bridge: Bridge) -> None:
    _, status = c_get(
        bridge.port, STUDY_ROOT_GET, query(QueryRetrieveLevel="SERIES", SeriesInstanceUID="")
    )
    assert status == 0xA900


def test_compressed_object_is_decompressed_for_a_native_only_peer(
    bridge: Bridge, tmp_path: Path
) -> None:
    path = compressed_sample("JPEG2000.dcm", tmp_path)
    assert bridge.services.ingest.store(path.read_bytes()).ok
    original = dcmread(path)
    received, status = c_get(
        bridge.port,
        STUDY_ROOT_GET,
        query(QueryRetrieveLevel="STUDY", StudyInstanceUID=original.StudyInstanceUID),
        sop_class=SecondaryCaptureImageStorage,
        syntaxes=[ExplicitVRLittleEndian],
    )
    assert status == 0x0000
    [data] = received
    got = dcmread_bytes(data)
    assert got.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert (got.pixel_array == original.pixel_array).all()


def test_stow_rs_object_comes_back_through_getscu(
    bridge: Bridge, tmp_path: Path, dcmtk: None
) -> None:
    study, series = generate_uid(), generate_uid()
    objects = [part10(ct_instance(study, series, n)) for n in (1, 2)]
    boundary = uuid.uuid4().hex
    body = (
        b"".join(
            b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + o + b"\r\n"
            for o in objects
        )
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )
    stow = bridge.web().post(
        "/dicom-web/studies",
        content=body,
        headers={
            "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
            "Accept": "application/dicom+json",
        },
    )
    assert stow.status_code == 200, stow.text
    out = tmp_path / "got"
    out.mkdir()
    done = call_dcmtk(
        "getscu",
        "WORKSTATION_5",
        bridge.port,
        options=[
            "-S",
            "-od",
            str(out),
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            f"StudyInstanceUID={study}",
        ],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    got = sorted(dataset_bytes(p.read_bytes()) for p in out.iterdir())
    assert got == sorted(dataset_bytes(o) for o in objects)


def c_move(port: int, identifier: Dataset, destination: str) -> list[int]:
    ae = AE(ae_title="WORKSTATION_1")
    ae.add_requested_context(STUDY_ROOT_MOVE)
    assoc = ae.associate("127.0.0.1", port, ae_title=BRIDGE_AE)
    assert assoc.is_established
    statuses = [s.Status for s, _ in assoc.send_c_move(identifier, destination, STUDY_ROOT_MOVE)]
    assoc.release()
    return statuses


def test_c_move_sends_to_the_configured_destination(
    bridge: Bridge, move_destination: StorageScp
) -> None:
    study, _, objects = _store(bridge)
    statuses = c_move(
        bridge.port, query(QueryRetrieveLevel="STUDY", StudyInstanceUID=study), "MOVE_DEST"
    )
    assert statuses[-1] == 0x0000
    assert {a for a, _ in move_destination.received} == {BRIDGE_AE}
    assert {dataset_bytes(d) for _, d in move_destination.received} == {
        dataset_bytes(o) for o in objects
    }


def test_c_move_to_an_unknown_destination(bridge: Bridge) -> None:
    study, _, _ = _store(bridge, count=1)
    statuses = c_move(
        bridge.port, query(QueryRetrieveLevel="STUDY", StudyInstanceUID=study), "ELSEWHERE"
    )
    assert statuses == [0xA801]
    [event] = [e for e in bridge.audit() if e["action"] == "retrieve"]
    assert (event["outcome"], event["reason"]) == ("failed", "move_destination_unknown")


def test_dcmtk_movescu(bridge: Bridge, move_destination: StorageScp, dcmtk: None) -> None:
    study, series, objects = _store(bridge, count=2)
    done = call_dcmtk(
        "movescu",
        "WORKSTATION_8",
        bridge.port,
        options=[
            "-S",
            "-aem",
            "MOVE_DEST",
            "-k",
            "QueryRetrieveLevel=SERIES",
            "-k",
            f"StudyInstanceUID={study}",
            "-k",
            f"SeriesInstanceUID={series}",
        ],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert {dataset_bytes(d) for _, d in move_destination.received} == {
        dataset_bytes(o) for o in objects
    }


def dcmread_bytes(data: bytes) -> Dataset:
    return dcmread(io.BytesIO(data))
