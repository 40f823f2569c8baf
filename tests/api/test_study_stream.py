"""A whole study streamed as one multipart answer: batches of small instances (the next
read while one is sent), large instances in chunks, in any mix, as stored or re-encoded."""

from __future__ import annotations

import io

import httpx
import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from cloudpacs.runtime import Services
from cloudpacs.web.routes import wado
from tests.support.multipart_reader import read_parts
from tests.support.synthetic import ct_instance

STUDY = "1.2.826.0.1.79.1"
SERIES = ("1.2.826.0.1.79.1.1", "1.2.826.0.1.79.1.2")
DICOM_PARTS = 'multipart/related; type="application/dicom"'


@pytest.fixture
def stored(server: tuple[str, Services], monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Twelve instances of 2 KB to 520 KB; limits so small that the study makes several
    batches (holding files the store maps and files it reads) and its largest instances
    stream in chunks, in between batches."""
    monkeypatch.setattr(wado, "BATCH_BYTES", 40_000)
    monkeypatch.setattr(wado, "WHOLE_READ_BYTES", 400_000)
    monkeypatch.setattr(wado, "CHUNK_BYTES", 100_000)
    _, services = server
    by_sop = {}
    for number in range(1, 13):
        side = {0: 384, 1: 24, 2: 128, 3: 24, 4: 512}[number % 5]
        data = ct_instance(STUDY, SERIES[number % 2], number, rows=side, columns=side)
        result = services.ingest.store(data)
        assert result.ok and result.record is not None
        by_sop[result.record.sop_uid] = data
    return by_sop


def test_every_instance_arrives_whole_in_one_answer(
    server: tuple[str, Services], stored: dict[str, bytes]
) -> None:
    base_url, services = server
    with httpx.Client(base_url=base_url, timeout=30) as http:
        response = http.get(f"/studies/{STUDY}", headers={"Accept": DICOM_PARTS})
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    parts = read_parts(response.headers["content-type"], response.content)
    order = [rec.sop_uid for rec in services.retrieve.instances(STUDY, None, None)]
    assert [pydicom.dcmread(io.BytesIO(p)).SOPInstanceUID for _, p in parts] == order
    assert {pydicom.dcmread(io.BytesIO(p)).SOPInstanceUID: p for _, p in parts} == stored


def test_a_re_encoded_study_streams_every_instance(
    server: tuple[str, Services], stored: dict[str, bytes]
) -> None:
    base_url, _ = server
    accept = f"{DICOM_PARTS}; transfer-syntax={ImplicitVRLittleEndian}"
    with httpx.Client(base_url=base_url, timeout=30) as http:
        response = http.get(f"/studies/{STUDY}", headers={"Accept": accept})
    assert response.status_code == 200
    parts = read_parts(response.headers["content-type"], response.content)
    assert len(parts) == len(stored)
    for content_type, payload in parts:
        assert content_type.endswith(f'transfer-syntax="{ImplicitVRLittleEndian}"')
        ds = pydicom.dcmread(io.BytesIO(payload))
        original = pydicom.dcmread(io.BytesIO(stored[ds.SOPInstanceUID]))
        assert ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
        assert ds.PixelData == original.PixelData


def test_a_client_leaving_mid_stream_does_not_hold_up_the_next(
    server: tuple[str, Services], stored: dict[str, bytes]
) -> None:
    base_url, _ = server
    with (
        httpx.Client(base_url=base_url, timeout=30) as http,
        http.stream("GET", f"/studies/{STUDY}", headers={"Accept": DICOM_PARTS}) as r,
    ):
        assert r.status_code == 200
        next(r.iter_raw(1000))
    with httpx.Client(base_url=base_url, timeout=30) as http:
        again = http.get(f"/studies/{STUDY}", headers={"Accept": DICOM_PARTS})
    assert len(read_parts(again.headers["content-type"], again.content)) == len(stored)
