"""De-identification end to end, on the local server and on the Lambda handlers.

End to end: an admin de-identifies a study through the API, the job completes,
a researcher then searches and retrieves only the de-identified copy (403 on the archive's
root), and the copy carries none of the original identifiers (the PHI scan of
``tests/unit/deid/phi_scan.py`` over every retrieved instance). Also: a corrupt and a
quarantined instance fail alone and are reported while the rest completes; re-running a job
writes nothing new; bad requests get 400/404; nobody can store into the research root.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pydicom
import pytest
from pydicom.uid import generate_uid

from cloudpacs.deid import Profile
from cloudpacs.services.deid_model import AUTO_EVENT_PATTERN, DeidTask, ProfileSpec
from cloudpacs.settings import SettingsError, settings_from_environment
from tests.support.aws_world import AUDIT_GROUP, EVENT_BUS, environment
from tests.support.deid_deployments import (
    DICOM_WEB,
    KINDS,
    RESEARCH,
    Deployment,
    running_deployment,
)
from tests.support.deid_world import MAX_RECEIVES, DeidWorld, deid_world, deliver, load_all_handlers
from tests.support.lambda_api import LambdaApi
from tests.support.lambda_events import REGION, STAGE, LambdaContext, claims, sqs_event
from tests.support.multipart_body import stow_body
from tests.support.multipart_reader import read_parts
from tests.support.synthetic import Patient, ct_instance, ct_study
from tests.unit.deid.phi_scan import leaked_values

PATIENT = Patient(name="Quixote^Alonso", patient_id="MRN-778899", birth_date="19610304")
DICOM = {"Accept": "application/dicom"}


@pytest.fixture(params=KINDS)
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    with running_deployment(request.param, tmp_path) as running:
        yield running


def _by_sop(objects: list[bytes]) -> dict[str, pydicom.Dataset]:
    parsed = [pydicom.dcmread(io.BytesIO(data)) for data in objects]
    return {str(ds.SOPInstanceUID): ds for ds in parsed}


def test_admin_deidentifies_and_researcher_reads_only_the_copy(deployment: Deployment) -> None:
    d = deployment
    study, objects = ct_study(
        4, series=2, patient=PATIENT, rows=16, columns=16, accession="ACC-554433"
    )
    d.store(objects)
    originals = _by_sop(objects)

    accepted = d.deidentify(study)
    assert accepted.status_code == 202, accepted.text
    url = accepted.headers["Location"]
    assert url == accepted.json()["url"]
    assert url.startswith(f"{d.root}{DICOM_WEB}/jobs/")
    assert accepted.json()["state"] == "queued"
    assert accepted.json()["instances"] == 4

    job = d.finished_job(url)
    assert job["state"] == "completed", job
    assert (job["deidentified"], job["quarantined"], job["failed"], job["pending"]) == (4, 0, 0, 0)
    research = job["researchStudy"]
    assert research.startswith("2.25.") and research != study
    assert job["researchUrl"] == f"{d.root}{RESEARCH}/studies/{research}"
    assert {r["sop"] for r in job["results"]} == set(originals)

    researcher = d.clients["researcher"]
    found = researcher.get(f"{d.root}{RESEARCH}/studies")
    assert found.status_code == 200, found.text
    assert [s["0020000D"]["Value"][0] for s in found.json()] == [research]
    for forbidden in (PATIENT.name.split("^")[0], PATIENT.patient_id, "ACC-554433", study):
        assert forbidden not in found.text
    # Retrieve URLs point into the research root, not the archive.
    assert found.json()[0]["00081190"]["Value"][0] == job["researchUrl"]

    profile = Profile.preset("basic")
    for result in job["results"]:
        path = (
            f"{d.root}{RESEARCH}/studies/{research}/series/{result['researchSeries']}"
            f"/instances/{result['researchSop']}"
        )
        response = researcher.get(path, headers=DICOM)
        assert response.status_code == 200, response.text
        copy = response.content
        original = originals[result["sop"]]
        copied = pydicom.dcmread(io.BytesIO(copy))
        assert leaked_values(original, copy, copied, profile) == []
        for value in (result["sop"], result["series"], study, PATIENT.patient_id):
            assert value.encode() not in copy
        assert copied.PatientIdentityRemoved == "YES"
        assert copied.PixelData == original.PixelData
        octets = {"Accept": 'multipart/related; type="application/octet-stream"'}
        frames = researcher.get(f"{path}/frames/1", headers=octets)
        assert frames.status_code == 200
    metadata = researcher.get(f"{d.root}{RESEARCH}/studies/{research}/metadata")
    assert metadata.status_code == 200
    assert PATIENT.patient_id not in metadata.text and study not in metadata.text

    # The researcher may use the research root only; the viewer may not use it at all.
    for path in ("/studies", f"/studies/{study}", f"/studies/{study}/metadata"):
        refused = researcher.get(f"{d.root}{DICOM_WEB}{path}")
        assert refused.status_code == 403, path
    assert researcher.get(url).status_code == 403
    assert d.clients["viewer"].get(f"{d.root}{RESEARCH}/studies").status_code == 403
    assert d.clients["admin"].get(f"{d.root}{RESEARCH}/studies").status_code == 200
    # Nothing stores into the research root (no such route: 405 locally, 403 at API Gateway).
    body, headers = stow_body(objects[:1])
    for role in ("admin", "researcher"):
        stored = d.clients[role].post(f"{d.root}{RESEARCH}/studies", content=body, headers=headers)
        assert stored.status_code in (403, 405), stored.text
    assert d.clients["admin"].get(f"{d.root}{RESEARCH}/studies/{study}").status_code == 404


def test_bad_instances_fail_alone_and_a_rerun_writes_nothing_new(deployment: Deployment) -> None:
    d = deployment
    study, objects = ct_study(3, patient=PATIENT, rows=16, columns=16)
    first = pydicom.dcmread(io.BytesIO(objects[0]))
    series = str(first.SeriesInstanceUID)
    screen = ct_instance(study, series, 9, patient=PATIENT, rows=16, columns=16, modality="OT")
    d.store([*objects, screen])
    corrupted = str(pydicom.dcmread(io.BytesIO(objects[1])).SOPInstanceUID)
    quarantined = str(pydicom.dcmread(io.BytesIO(screen)).SOPInstanceUID)
    d.corrupt(study, series, corrupted)

    job = d.finished_job(d.deidentify(study).headers["Location"])
    assert job["state"] == "completed", job
    assert (job["deidentified"], job["quarantined"], job["failed"]) == (2, 1, 1)
    results = {r["sop"]: r for r in job["results"]}
    assert results[corrupted]["outcome"] == "failed"
    assert results[corrupted]["code"] == "not_part10"
    assert results[corrupted]["reason"]
    assert results[quarantined]["outcome"] == "quarantined"
    assert results[quarantined]["code"] == "risky_kind_unflagged"
    assert all(r["stored"] == "stored" for r in results.values() if r["outcome"] == "deidentified")
    stored = d.research_objects()
    assert len(stored) == 2

    again = d.finished_job(d.deidentify(study).headers["Location"])
    assert again["researchStudy"] == job["researchStudy"]
    assert (again["deidentified"], again["quarantined"], again["failed"]) == (2, 1, 1)
    copies = [r for r in again["results"] if r["outcome"] == "deidentified"]
    assert {r["stored"] for r in copies} == {"already-stored"}
    assert {(r["researchSeries"], r["researchSop"]) for r in copies} == {
        (r["researchSeries"], r["researchSop"])
        for r in job["results"]
        if r["outcome"] == "deidentified"
    }
    assert d.research_objects() == stored


def test_options_change_the_copy_in_place(deployment: Deployment) -> None:
    """Re-running with other options replaces the copy under the same pseudonym UIDs."""
    d = deployment
    study, objects = ct_study(1, patient=PATIENT, rows=8, columns=8)
    d.store(objects)
    basic = d.finished_job(d.deidentify(study).headers["Location"])
    before = d.research_objects()
    kept = d.finished_job(
        d.deidentify(study, "basic", retain_patient_characteristics=True).headers["Location"]
    )
    assert kept["profile"]["name"] == "basic+retain_patient_characteristics"
    assert kept["results"][0]["stored"] == "replaced"
    assert kept["researchStudy"] == basic["researchStudy"]
    after = d.research_objects()
    assert after.keys() == before.keys() and after != before
    sop = kept["results"][0]["researchSop"]
    path = f"{d.root}{RESEARCH}/studies/{kept['researchStudy']}/instances"
    listed = d.clients["researcher"].get(path).json()
    assert [i["00080018"]["Value"][0] for i in listed] == [sop]


def test_requests_are_checked(deployment: Deployment) -> None:
    d = deployment
    study, objects = ct_study(1, rows=8, columns=8)
    d.store(objects)
    admin = d.clients["admin"]
    unknown = d.deidentify(study, "nonexistent")
    assert unknown.status_code == 400 and "unknown de-identification preset" in unknown.text
    option = d.deidentify(study, "basic", retain_everything=True)
    assert option.status_code == 400 and "retain_everything" in option.text
    both = d.deidentify(
        study,
        "basic",
        retain_longitudinal_full_dates=True,
        retain_longitudinal_modified_dates=True,
    )
    assert both.status_code == 400
    base = f"{d.root}{DICOM_WEB}/studies"
    typed = admin.post(f"{base}/{study}/deidentify", json={"profile": "basic", "options": {"x": 1}})
    assert typed.status_code == 400
    assert admin.post(f"{base}/{study}/deidentify", json={"options": {}}).status_code == 400
    missing = d.deidentify(generate_uid())
    assert missing.status_code == 404
    assert admin.post(f"{base}/DOE^JANE/deidentify", json={"profile": "basic"}).status_code == 400
    assert admin.get(f"{d.root}{DICOM_WEB}/jobs/{'0' * 32}").status_code == 404
    assert admin.get(f"{d.root}{DICOM_WEB}/jobs/nope").status_code == 400
    for role in ("researcher", "viewer"):
        refused = d.clients[role].post(f"{base}/{study}/deidentify", json={"profile": "basic"})
        assert refused.status_code == 403, role
        assert "deidentify" in refused.json()["error"]
    d.settle()


def test_multipart_retrieve_of_the_copy(deployment: Deployment) -> None:
    d = deployment
    study, objects = ct_study(2, patient=PATIENT, rows=8, columns=8)
    d.store(objects)
    job = d.finished_job(d.deidentify(study, "retain_longitudinal").headers["Location"])
    response = d.clients["researcher"].get(
        job["researchUrl"], headers={"Accept": 'multipart/related; type="application/dicom"'}
    )
    assert response.status_code == 200
    parts = read_parts(response.headers["Content-Type"], response.content)
    assert len(parts) == 2
    for _, body in parts:
        assert PATIENT.patient_id.encode() not in body
        assert pydicom.dcmread(io.BytesIO(body)).LongitudinalTemporalInformationModified == (
            "MODIFIED"
        )


# -- the anonymize function's queue (Lambda only) -------------------------------------------------
@pytest.fixture
def auto_world() -> Iterator[tuple[DeidWorld, dict[str, Any]]]:
    """The stage with automatic de-identification: the bus routes stored instances to the queue
    with the rule the stack deploys."""
    with deid_world(auto_profile="basic") as world:
        events = boto3.client("events", region_name=REGION)
        events.put_rule(
            Name="auto-deidentify",
            EventBusName=EVENT_BUS,
            EventPattern=json.dumps(AUTO_EVENT_PATTERN),
        )
        events.put_targets(
            Rule="auto-deidentify",
            EventBusName=EVENT_BUS,
            Targets=[{"Id": "anonymize", "Arn": world.queue_arn}],
        )
        yield world, load_all_handlers()


def test_automatic_mode_copies_what_stow_stores(
    auto_world: tuple[DeidWorld, dict[str, Any]],
) -> None:
    world, handlers = auto_world
    admin = LambdaApi(handlers, claims=claims("ann.admin", groups="admin"))
    study, objects = ct_study(2, patient=PATIENT, rows=8, columns=8)
    body, headers = stow_body(objects)
    stored = admin.invoke(
        "POST", f"/{STAGE}/dicom-web/studies", headers=list(headers.items()), body=body
    )
    assert stored.status == 200
    answers = deliver(world, handlers["anonymize"])
    assert answers and all(a == {"batchItemFailures": []} for a in answers)
    researcher = LambdaApi(handlers, claims=claims("rita.research", groups="researcher"))
    found = researcher.invoke("GET", f"/{STAGE}{RESEARCH}/studies")
    assert found.status == 200
    (copy,) = json.loads(found.body)
    assert copy["00201208"]["Value"] == [2]
    assert copy["0020000D"]["Value"][0] != study
    assert PATIENT.patient_id.encode() not in found.body
    assert world.depth(world.dlq_url) == 0


def test_a_poison_message_ends_in_the_dead_letter_queue() -> None:
    with deid_world() as world:
        handlers = load_all_handlers()
        world.aws.sqs.send_message(QueueUrl=world.queue_url, MessageBody="not a task")
        valid = DeidTask(generate_uid(), ((generate_uid(), generate_uid()),), ProfileSpec("basic"))
        world.aws.sqs.send_message(QueueUrl=world.queue_url, MessageBody=valid.to_json())
        answers = deliver(world, handlers["anonymize"])
        failures = [len(a["batchItemFailures"]) for a in answers]
        assert failures[0] == 1 and sum(failures) == MAX_RECEIVES  # the valid one passed
        assert world.depth(world.queue_url) == 0
        assert world.depth(world.dlq_url) == 1


def test_the_anonymize_function_reads_the_secret_once() -> None:
    with deid_world() as world:
        handlers = load_all_handlers()
        calls = [name for name in world.aws.log.names() if name.startswith("secretsmanager")]
        assert calls == ["secretsmanager:GetSecretValue"]  # at cold start
        task = DeidTask(generate_uid(), ((generate_uid(), generate_uid()),), ProfileSpec("basic"))
        event = sqs_event([task.to_json()], queue_arn=world.queue_arn)
        for _ in range(2):
            answer = handlers["anonymize"](event, LambdaContext(function_name="anonymize"))
            assert answer == {"batchItemFailures": []}
        later = [name for name in world.aws.log.names() if name.startswith("secretsmanager")]
        assert later == []


def test_the_functions_refuse_to_start_without_their_settings() -> None:
    with deid_world(), environment({"CLOUDPACS_DEID_SECRET_ID": ""}):
        settings_from_environment.cache_clear()
        sys.modules.pop("functions.anonymize.handler", None)
        with pytest.raises(SettingsError, match="CLOUDPACS_DEID_SECRET_ID"):
            importlib.import_module("functions.anonymize.handler")


def _ultrasound(study: str, series: str, number: int, manufacturer: str, model: str) -> bytes:
    """A 640x480 ultrasound frame, as the default rule for the ACUSON Sequoia expects."""
    data = ct_instance(study, series, number, patient=PATIENT, rows=480, columns=640)
    ds = pydicom.dcmread(io.BytesIO(data))
    ds.Modality, ds.Manufacturer, ds.ManufacturerModelName = "US", manufacturer, model
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _worker_audit(d: Deployment) -> list[dict[str, Any]]:
    if d.kind == "local":
        reader = d.extra["services"].audit_reader
        return [e.to_dict() for e in reader.read(limit=1000) if e.entry_point == "worker"]
    logs = boto3.client("logs", region_name=REGION)
    found = logs.filter_log_events(logGroupName=AUDIT_GROUP)["events"]
    return [e for e in (json.loads(f["message"]) for f in found) if e["entry_point"] == "worker"]


def test_clean_pixel_data_keeps_a_known_ultrasound_and_reports_the_rest(
    deployment: Deployment,
) -> None:
    """PS3.15 E.3.1 with the default rules: the ACUSON Sequoia's header band is blanked and
    the copy kept; an ultrasound of a model no rule knows stays out, named in the report."""
    d = deployment
    study, objects = ct_study(1, patient=PATIENT, rows=16, columns=16)
    series = str(pydicom.dcmread(io.BytesIO(objects[0])).SeriesInstanceUID)
    known = _ultrasound(study, series, 5, "ACUSON", "SEQUOIA")
    unknown = _ultrasound(study, series, 6, "Acme", "Sono 9")
    d.store([*objects, known, unknown])
    known_ds, unknown_sop = pydicom.dcmread(io.BytesIO(known)), _sop(unknown)

    job = d.finished_job(d.deidentify(study, clean_pixel_data=True).headers["Location"])

    assert job["profile"]["name"] == "basic+clean_pixel_data"
    assert (job["deidentified"], job["quarantined"], job["failed"]) == (2, 1, 0), job
    report = job["quarantine"]
    assert (report["count"], report["byReason"]) == (1, {"no_cleaning_rule": 1})
    [refused] = report["instances"]
    assert (refused["sop"], refused["code"], refused["pixelRule"]) == (
        unknown_sop,
        "no_cleaning_rule",
        None,
    )
    assert "Model Sono 9" in refused["reason"]
    results = {r["sop"]: r for r in job["results"]}
    cleaned = results[str(known_ds.SOPInstanceUID)]
    assert cleaned["pixelRule"] == "acuson-sequoia-640x480"
    path = (
        f"{d.root}{RESEARCH}/studies/{job['researchStudy']}/series/{cleaned['researchSeries']}"
        f"/instances/{cleaned['researchSop']}"
    )
    response = d.clients["researcher"].get(path, headers=DICOM)
    assert response.status_code == 200, response.text
    copy = pydicom.dcmread(io.BytesIO(response.content))
    expected = known_ds.pixel_array.copy()
    expected[0:30, :] = 0
    assert (copy.pixel_array == expected).all()
    assert copy.BurnedInAnnotation == "NO"
    assert "113101" in [i.CodeValue for i in copy.DeidentificationMethodCodeSequence]
    profile = Profile(clean_pixel_data=True, name="basic+clean_pixel_data")
    assert leaked_values(known_ds, response.content, copy, profile) == []

    events = {e["sop_uid"]: e for e in _worker_audit(d) if e["request_id"] == job["job"]}
    assert set(events) == {unknown_sop, str(known_ds.SOPInstanceUID)}
    assert events[unknown_sop]["outcome"] == "failed"
    assert events[unknown_sop]["reason"] == "no_cleaning_rule"
    assert events[str(known_ds.SOPInstanceUID)]["reason"] == "pixels_cleaned"
    assert {e["actor"] for e in events.values()} == {"ann.admin"}
    assert {e["action"] for e in events.values()} == {"deidentify"}


def _sop(data: bytes) -> str:
    return str(pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID)
