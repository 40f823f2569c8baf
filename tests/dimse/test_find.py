"""C-FIND (PS3.4 C.4.1) through the QIDO query service, Patient Root and Study Root.

Protects: C-FIND matches exactly what QIDO-RS matches (one matching engine, PS3.4 C.2.2.2:
wildcard, range, UID list); each level returns its entities with the requested keys, the
unique keys above and RetrieveAETitle; PATIENT level groups studies by patient with
NumberOfPatientRelated* counts; an invalid level is answered 0xA900; each C-FIND leaves one
``search`` audit event with the number of matches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE

from dimse_bridge.contexts import PATIENT_ROOT_FIND, STUDY_ROOT_FIND
from tests.dimse.factory import ct_instance, part10
from tests.dimse.harness import BRIDGE_AE, Bridge, call_dcmtk, query


@pytest.fixture
def archive(bridge: Bridge) -> dict[str, list[str]]:
    """Three studies: two of patient PAT-1 (3 and 1 instances), one of PAT-2 (2 instances)."""
    layout = [
        ("PAT-1", "Doe^Jane", "20240105", 3),
        ("PAT-1", "Doe^Jane", "20230610", 1),
        ("PAT-2", "Roe^Richard", "20240108", 2),
    ]
    studies: dict[str, list[str]] = {}
    for patient, name, date, count in layout:
        study, series = generate_uid(), generate_uid()
        studies[study] = []
        for n in range(1, count + 1):
            ds = ct_instance(
                study, series, n, patient_id=patient, patient_name=name, study_date=date
            )
            assert bridge.services.ingest.store(part10(ds)).ok
            studies[study].append(ds.SOPInstanceUID)
    return studies


def c_find(
    port: int, model: str, identifier: Dataset, calling: str = "WORKSTATION_1"
) -> Iterator[tuple[int, Dataset | None]]:
    ae = AE(ae_title=calling)
    ae.add_requested_context(model)
    assoc = ae.associate("127.0.0.1", port, ae_title=BRIDGE_AE)
    assert assoc.is_established
    try:
        for status, found in assoc.send_c_find(identifier, model):
            yield status.Status, found
    finally:
        assoc.release()


def matches(port: int, model: str, identifier: Dataset) -> list[Dataset]:
    results = list(c_find(port, model, identifier))
    assert results[-1][0] == 0x0000, hex(results[-1][0])
    return [ds for status, ds in results if status == 0xFF00 and ds is not None]


def test_study_level_matches_what_qido_matches(
    bridge: Bridge, archive: dict[str, list[str]]
) -> None:
    identifier = query(
        QueryRetrieveLevel="STUDY",
        PatientName="doe*",
        StudyDate="20240101-",
        StudyInstanceUID="",
        NumberOfStudyRelatedInstances="",
        ModalitiesInStudy="",
    )
    found = matches(bridge.port, STUDY_ROOT_FIND, identifier)
    qido = bridge.web().get(
        "/dicom-web/studies", params={"PatientName": "doe*", "StudyDate": "20240101-"}
    )
    assert qido.status_code == 200
    qido_uids = {item["0020000D"]["Value"][0] for item in qido.json()}
    assert {ds.StudyInstanceUID for ds in found} == qido_uids
    [study] = found
    assert study.NumberOfStudyRelatedInstances == 3
    assert study.ModalitiesInStudy == "CT"
    assert study.RetrieveAETitle == BRIDGE_AE and study.QueryRetrieveLevel == "STUDY"
    assert set(study.dir()) <= {
        "QueryRetrieveLevel",
        "RetrieveAETitle",
        "SpecificCharacterSet",
        "PatientName",
        "StudyDate",
        "StudyInstanceUID",
        "NumberOfStudyRelatedInstances",
        "ModalitiesInStudy",
    }
    [event] = [e for e in bridge.audit() if e["action"] == "search"]
    assert event["outcome"] == "success" and event["instance_count"] == 1


def test_uid_list_and_lower_levels(bridge: Bridge, archive: dict[str, list[str]]) -> None:
    uids = list(archive)
    listed = query(QueryRetrieveLevel="STUDY", StudyInstanceUID=uids[:2])
    assert {ds.StudyInstanceUID for ds in matches(bridge.port, STUDY_ROOT_FIND, listed)} == set(
        uids[:2]
    )
    series = matches(
        bridge.port,
        STUDY_ROOT_FIND,
        query(
            QueryRetrieveLevel="SERIES",
            StudyInstanceUID=uids[0],
            SeriesInstanceUID="",
            Modality="",
            NumberOfSeriesRelatedInstances="",
        ),
    )
    assert len(series) == 1 and series[0].NumberOfSeriesRelatedInstances == 3
    images = matches(
        bridge.port,
        STUDY_ROOT_FIND,
        query(
            QueryRetrieveLevel="IMAGE",
            StudyInstanceUID=uids[0],
            SeriesInstanceUID=series[0].SeriesInstanceUID,
            SOPInstanceUID="",
            InstanceNumber="",
        ),
    )
    assert [ds.SOPInstanceUID for ds in images] == archive[uids[0]]
    assert [ds.InstanceNumber for ds in images] == [1, 2, 3]


def test_patient_root_patient_and_study_levels(
    bridge: Bridge, archive: dict[str, list[str]]
) -> None:
    patients = matches(
        bridge.port,
        PATIENT_ROOT_FIND,
        query(
            QueryRetrieveLevel="PATIENT",
            PatientID="",
            PatientName="",
            NumberOfPatientRelatedStudies="",
            NumberOfPatientRelatedInstances="",
        ),
    )
    counts = {
        ds.PatientID: (ds.NumberOfPatientRelatedStudies, ds.NumberOfPatientRelatedInstances)
        for ds in patients
    }
    assert counts == {"PAT-1": (2, 4), "PAT-2": (1, 2)}
    assert {str(ds.PatientName) for ds in patients} == {"Doe^Jane", "Roe^Richard"}
    studies = matches(
        bridge.port,
        PATIENT_ROOT_FIND,
        query(QueryRetrieveLevel="STUDY", PatientID="PAT-1", StudyInstanceUID="", StudyDate=""),
    )
    assert [ds.StudyDate for ds in studies] == ["20240105", "20230610"]


def test_missing_keys_come_back_empty(bridge: Bridge, archive: dict[str, list[str]]) -> None:
    found = matches(
        bridge.port,
        STUDY_ROOT_FIND,
        query(QueryRetrieveLevel="STUDY", PatientID="PAT-2", OtherPatientIDs=""),
    )
    assert len(found) == 1
    assert "OtherPatientIDs" in found[0] and found[0].OtherPatientIDs in ("", None)
    assert found[0].StudyInstanceUID  # the level's unique key is always returned


@pytest.mark.parametrize(
    ("model", "level"),
    [(STUDY_ROOT_FIND, "PATIENT"), (STUDY_ROOT_FIND, "WARD"), (PATIENT_ROOT_FIND, "")],
)
def test_invalid_level_is_refused(bridge: Bridge, model: str, level: str) -> None:
    [(status, _)] = list(c_find(bridge.port, model, query(QueryRetrieveLevel=level, PatientID="")))
    assert status == 0xA900
    [event] = [e for e in bridge.audit() if e["action"] == "search"]
    assert (event["outcome"], event["reason"]) == ("failed", "bad_identifier")


def test_dcmtk_findscu(
    bridge: Bridge, archive: dict[str, list[str]], tmp_path: Path, dcmtk: None
) -> None:
    out = tmp_path / "found"
    out.mkdir()
    keys = [
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        "PatientID=PAT-1",
        "-k",
        "StudyInstanceUID",
        "-k",
        "PatientName",
    ]
    done = call_dcmtk(
        "findscu", "WORKSTATION_3", bridge.port, options=["-S", "-X", "-od", str(out), *keys]
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = {dcmread(p).StudyInstanceUID for p in out.iterdir()}
    pat1 = {uid for uid, sops in archive.items() if len(sops) in (3, 1)}
    assert found == pat1
    patient = call_dcmtk(
        "findscu",
        "WORKSTATION_3",
        bridge.port,
        options=[
            "-P",
            "-k",
            "QueryRetrieveLevel=PATIENT",
            "-k",
            "PatientID=PAT-2",
            "-k",
            "NumberOfPatientRelatedStudies",
        ],
    )
    assert patient.returncode == 0, patient.stdout + patient.stderr
    assert "PAT-2" in patient.stdout + patient.stderr
