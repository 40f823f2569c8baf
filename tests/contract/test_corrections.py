"""Corrections on both backends: every object and the index corrected, UIDs and pixels kept,
and an update a crash interrupts finished or rolled back by the repair sweep, never half."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pydicom
import pytest

from cloudpacs.dicom.corrections import parse_changes
from cloudpacs.errors import Conflict
from cloudpacs.keys import instance_key
from cloudpacs.model import StudyKeys
from cloudpacs.ports import BlobStore
from cloudpacs.runtime import Services, build_services
from cloudpacs.services.corrections import CorrectionService, journal_key
from cloudpacs.services.repair import RepairService
from cloudpacs.settings import load_settings
from tests.support.synthetic import Patient, ct_study

from .conftest import Adapters

NEW_NAME = {"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Roe^Richard"}]}}
CHANGES = parse_changes({**NEW_NAME, "AccessionNumber": {"vr": "SH", "Value": ["ACC-FIXED"]}})


class CrashAfter:
    """A blob store that fails the ``n``-th write matching ``what``, as a crash would."""

    def __init__(self, blobs: BlobStore, what: str, n: int) -> None:
        self.blobs, self.what, self.left = blobs, what, n

    def put(self, key: str, data: bytes, **kwargs: Any) -> None:
        if key.endswith(self.what):
            self.left -= 1
            if self.left == 0:
                raise OSError("power cut")
        self.blobs.put(key, data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.blobs, name)


def _services(adapters: Adapters) -> Services:
    return build_services(load_settings(fsync=False), backend=(adapters.index, adapters.blobs))


def _stored_study(services: Services) -> tuple[str, list[bytes]]:
    study, objects = ct_study(4, series=2, rows=8, columns=8, patient=Patient("Doe^Jane", "P-1"))
    assert all(o.ok for o in services.ingest.store_many(objects))
    return study, objects


def _names(services: Services, study: str) -> set[str]:
    """PatientName of every stored object of ``study`` (the bytes, not the index)."""
    partition = services.index.study_partition(study)
    assert partition is not None
    names = set()
    for rec in partition.instances:
        data = services.blobs.get(instance_key(rec.study_uid, rec.series_uid, rec.sop_uid))
        ds = pydicom.dcmread(io.BytesIO(data))
        assert ds.SOPInstanceUID == rec.sop_uid
        names.add(str(ds.PatientName))
    return names


def test_update_rewrites_every_object_and_the_index(adapters: Adapters) -> None:
    services = _services(adapters)
    study, objects = _stored_study(services)
    assert services.corrections is not None
    result = services.corrections.update_study(study, CHANGES)
    assert result.instances == 4
    assert result.previous == {"PatientName": "Doe^Jane", "AccessionNumber": "ACC-0001"}
    assert _names(services, study) == {"Roe^Richard"}
    record = services.index.get_study(study)
    assert record is not None and record.attrs["00080050"]["Value"] == ["ACC-FIXED"]
    assert record.instance_count == 4 and record.series_count == 2
    found = list(services.index.find_studies(StudyKeys(accession_number="ACC-FIXED")))
    assert [s.study_uid for s in found] == [study]
    for original in objects:
        before = pydicom.dcmread(io.BytesIO(original))
        rec = services.retrieve.instances(study, before.SeriesInstanceUID, before.SOPInstanceUID)[0]
        after = pydicom.dcmread(io.BytesIO(services.retrieve.read(rec)))
        assert after.PixelData == before.PixelData
        assert after.file_meta.TransferSyntaxUID == before.file_meta.TransferSyntaxUID
    metadata = services.retrieve.metadata(study)
    assert b"Roe^Richard" in metadata and b"Doe^Jane" not in metadata


def test_one_update_of_a_study_at_a_time(adapters: Adapters) -> None:
    services = _services(adapters)
    study, _ = _stored_study(services)
    services.blobs.put(
        journal_key(study), b"{}", sha256=hashlib.sha256(b"{}").hexdigest(), overwrite=False
    )
    assert services.corrections is not None
    with pytest.raises(Conflict):
        services.corrections.update_study(study, CHANGES)
    assert _names(services, study) == {"Doe^Jane"}


@pytest.mark.parametrize(
    ("crash_on", "nth", "expected"),
    [
        (".staged", 3, "Doe^Jane"),  # while staging: the study stays as it was
        (".dcm", 2, "Roe^Richard"),  # while swapping: the sweep finishes the update
    ],
)
def test_an_interrupted_update_is_finished_or_rolled_back(
    adapters: Adapters, crash_on: str, nth: int, expected: str
) -> None:
    services = _services(adapters)
    study, _ = _stored_study(services)
    crashing = CorrectionService(
        services.index,
        CrashAfter(services.blobs, crash_on, nth),  # type: ignore[arg-type]
    )
    with pytest.raises(OSError):
        crashing.update_study(study, CHANGES)

    report = RepairService(services.index, services.blobs, services.corrections).sweep()
    assert _names(services, study) == {expected}
    record = services.index.get_study(study)
    assert record is not None and record.instance_count == 4
    accession = record.attrs["00080050"]["Value"][0]
    assert accession == ("ACC-FIXED" if expected == "Roe^Richard" else "ACC-0001")
    left = list(services.blobs.list_keys(f"studies/{study}/updates/"))
    assert left == []
    if expected == "Roe^Richard":
        assert report.updates_finished == [study]
    else:
        # Staging crashed before the journal said "applying": the update never happened;
        # the failing request cleaned up after itself or the sweep did.
        assert report.updates_finished == []
    assert report.indexed == [] and report.dangling == [] and report.unreadable == []
    assert RepairService(services.index, services.blobs).sweep().updates_finished == []


def test_a_correction_takes_over_a_journal_left_long_ago(adapters: Adapters) -> None:
    services = _services(adapters)
    study, _ = _stored_study(services)
    crashing = CorrectionService(
        services.index,
        CrashAfter(services.blobs, ".dcm", 2),  # type: ignore[arg-type]
    )
    with pytest.raises(OSError):
        crashing.update_study(study, CHANGES)  # dies half applied: journal left behind
    journal = json.loads(services.blobs.get(journal_key(study)))
    assert services.corrections is not None
    with pytest.raises(Conflict):  # a recent journal: another correction may be running
        services.corrections.update_study(study, CHANGES)
    journal["started"] = "2020-01-01T00:00:00.000Z"
    data = json.dumps(journal).encode()
    services.blobs.put(
        journal_key(study), data, sha256=hashlib.sha256(data).hexdigest(), overwrite=True
    )
    later = parse_changes({"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Poe^Edgar"}]}})
    assert services.corrections.update_study(study, later).previous == {
        "PatientName": "Roe^Richard"  # the interrupted correction was finished first
    }
    assert _names(services, study) == {"Poe^Edgar"}
    record = services.index.get_study(study)
    assert record is not None and record.attrs["00080050"]["Value"] == ["ACC-FIXED"]
