"""De-identification jobs and the worker on the embedded backend: what the API side
checks, how the worker reports each instance, faults on the last delivery, automatic mode,
the task message and the local key file."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pydicom
import pytest

from cloudpacs.adapters.local.key_file import KeyFile, KeyFileError
from cloudpacs.aws_lambda.anonymize import tasks_in_message
from cloudpacs.errors import BadRequest, NotFound
from cloudpacs.model import StudyKeys
from cloudpacs.runtime import Services, build_services
from cloudpacs.security.events import InstanceEvent, InstanceEventType
from cloudpacs.services.deid_jobs import JobNotQueued
from cloudpacs.services.deid_model import (
    DeidTask,
    InvalidTask,
    JobState,
    Outcome,
    ProfileSpec,
)
from cloudpacs.services.deid_worker import TransientDeidFailure
from cloudpacs.settings import SettingsError, load_settings
from tests.support.synthetic import ct_study

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _services(tmp_path: Path, **overrides: Any) -> Services:
    return build_services(load_settings(data_dir=tmp_path / "data", fsync=False, **overrides))


def _stored(services: Services, instances: int = 2) -> tuple[str, list[tuple[str, str]]]:
    study, objects = ct_study(instances, rows=8, columns=8)
    pairs = []
    for data in objects:
        outcome = services.ingest.store(data)
        assert outcome.ok and outcome.series_uid and outcome.sop_uid
        pairs.append((outcome.series_uid, outcome.sop_uid))
    return study, pairs


# -- the profile of a request ----------------------------------------------------------------
def test_a_preset_with_changed_options_is_named_after_them() -> None:
    assert ProfileSpec("basic").build().name == "basic"
    assert ProfileSpec("basic", {"retain_uids": False}).build().name == "basic"
    changed = ProfileSpec("retain_longitudinal", {"clean_descriptors": False, "retain_uids": True})
    profile = changed.build()
    assert profile.name == "retain_longitudinal-clean_descriptors+retain_uids"
    assert profile.retain_uids and not profile.clean_descriptors
    assert profile.retain_longitudinal_modified_dates


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (ProfileSpec("strict"), "unknown de-identification preset"),
        (ProfileSpec("basic", {"retain_names": True}), "retain_names"),
        (ProfileSpec("basic", {"retain_uids": 1}), "true or false"),  # type: ignore[dict-item]
        (
            ProfileSpec(
                "basic",
                {
                    "retain_longitudinal_full_dates": True,
                    "retain_longitudinal_modified_dates": True,
                },
            ),
            "Full Dates or Modified Dates",
        ),
    ],
)
def test_a_bad_profile_is_refused(spec: ProfileSpec, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        spec.build()


# -- the task message ---------------------------------------------------------------------------
def test_a_task_survives_its_message() -> None:
    task = DeidTask(
        "1.2.3", (("1.2.3.4", "1.2.3.4.5"),), ProfileSpec("gdpr", {"retain_uids": True})
    )
    assert DeidTask.from_json(json.loads(task.to_json())) == task
    job = DeidTask("1.2", (("1.2.3", "1.2.3.4"),), ProfileSpec("basic"), "ab" * 16)
    assert tasks_in_message(job.to_json(), auto_profile=None) == [job]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"kind": "something else"}),
        json.dumps({"kind": "cloudpacs.deidentify", "study": "1.2"}),
        json.dumps(
            {
                "kind": "cloudpacs.deidentify",
                "study": "../1.2",
                "instances": [["1.2", "1.3"]],
                "profile": {"preset": "basic"},
            }
        ),
        json.dumps(
            {
                "kind": "cloudpacs.deidentify",
                "job": "../../x",
                "study": "1.2",
                "instances": [["1.2", "1.3"]],
                "profile": {"preset": "basic"},
            }
        ),
    ],
)
def test_anything_else_is_a_poison_message(body: str) -> None:
    with pytest.raises(InvalidTask):
        tasks_in_message(body, auto_profile="basic")


def test_a_stored_event_becomes_an_automatic_task() -> None:
    template = json.loads((EVENTS / "eventbridge_instance_stored.json").read_text())
    event = InstanceEvent.from_detail(template["detail"])
    body = json.dumps(template)
    (task,) = tasks_in_message(body, auto_profile="hipaa_safe_harbor")
    assert task == DeidTask(
        event.study_uid,
        ((event.series_uid, event.sop_uid),),
        ProfileSpec("hipaa_safe_harbor"),
    )
    with pytest.raises(InvalidTask, match="automatic de-identification is off"):
        tasks_in_message(body, auto_profile=None)
    deleted = {**template, "detail-type": InstanceEventType.DELETED.value}
    assert tasks_in_message(json.dumps(deleted), auto_profile="basic") == []


# -- the API side ------------------------------------------------------------------------------
def test_submit_checks_the_request_before_anything_is_queued(tmp_path: Path) -> None:
    services = _services(tmp_path)
    jobs = services.deid_jobs
    assert jobs is not None
    study, _ = _stored(services)
    with pytest.raises(BadRequest):
        jobs.submit(study, ProfileSpec("nope"), owner=None)
    with pytest.raises(BadRequest):
        jobs.submit("1.2.x", ProfileSpec("basic"), owner=None)
    with pytest.raises(NotFound):
        jobs.submit("1.2.3.4", ProfileSpec("basic"), owner=None)
    with pytest.raises(BadRequest):
        jobs.status("../etc")
    with pytest.raises(NotFound):
        jobs.status("0" * 32)


def test_tasks_carry_at_most_chunk_size_instances(tmp_path: Path) -> None:
    services = _services(tmp_path)
    sent: list[DeidTask] = []

    class Recorder:
        def send(self, tasks: Sequence[DeidTask]) -> None:
            sent.extend(tasks)

    jobs = services.deid_jobs
    assert jobs is not None
    jobs.queue, jobs.chunk_size = Recorder(), 2
    study, pairs = _stored(services, 5)
    record = jobs.submit(study, ProfileSpec("basic"), owner="ann")
    assert [len(t.instances) for t in sent] == [2, 2, 1]
    assert {p for t in sent for p in t.instances} == set(pairs)
    assert {t.job for t in sent} == {record.job_id}
    assert jobs.status(record.job_id).state is JobState.QUEUED


def test_a_job_whose_tasks_cannot_be_queued_is_failed(tmp_path: Path) -> None:
    services = _services(tmp_path)

    class Broken:
        def send(self, tasks: Sequence[DeidTask]) -> None:
            raise ConnectionError("queue unavailable")

    jobs = services.deid_jobs
    assert jobs is not None
    jobs.queue = Broken()
    study, _ = _stored(services)
    with pytest.raises(JobNotQueued) as refused:
        jobs.submit(study, ProfileSpec("basic"), owner=None)
    assert refused.value.status == 503
    (job_id,) = os.listdir(tmp_path / "data" / "jobs")
    status = jobs.status(job_id)
    assert status.state is JobState.FAILED and status.record.error


# -- the worker --------------------------------------------------------------------------------
def test_a_server_fault_fails_the_delivery_until_the_last(tmp_path: Path) -> None:
    services = _services(tmp_path)
    worker, research = services.deid_worker, services.research
    assert worker is not None and research is not None
    study, pairs = _stored(services)
    real_put = research.blobs.put
    broken = {"on": True}

    def flaky_put(key: str, data: bytes, *, sha256: str, overwrite: bool) -> None:
        if broken["on"]:
            raise OSError("disk unavailable")
        real_put(key, data, sha256=sha256, overwrite=overwrite)

    research.blobs.put = flaky_put  # type: ignore[method-assign]
    jobs = services.deid_jobs
    assert jobs is not None
    jobs.queue = type("Null", (), {"send": lambda self, tasks: None})()
    record = jobs.submit(study, ProfileSpec("basic"), owner=None)
    task = DeidTask(study, tuple(pairs), ProfileSpec("basic"), record.job_id)
    with pytest.raises(TransientDeidFailure):
        worker.process(task, final=False)
    assert jobs.status(record.job_id).results == ()  # nothing final yet: no result recorded
    results = worker.process(task, final=True)
    assert {(r.outcome, r.code) for r in results} == {(Outcome.FAILED, "internal_error")}
    assert jobs.status(record.job_id).state is JobState.FAILED
    broken["on"] = False
    again = worker.process(task, final=False)
    assert {r.outcome for r in again} == {Outcome.DEIDENTIFIED}
    assert jobs.status(record.job_id).state is JobState.COMPLETED


def test_a_deleted_or_missing_instance_is_reported(tmp_path: Path) -> None:
    services = _services(tmp_path)
    worker = services.deid_worker
    assert worker is not None
    study, pairs = _stored(services, 3)
    services.delete.delete(study, pairs[0][0], pairs[0][1])
    services.blobs.delete(f"studies/{study}/series/{pairs[1][0]}/instances/{pairs[1][1]}.dcm")
    results = worker.process(DeidTask(study, tuple(pairs), ProfileSpec("basic")))
    assert [(r.outcome, r.code) for r in results] == [
        (Outcome.FAILED, "not_found"),
        (Outcome.FAILED, "missing_object"),
        (Outcome.DEIDENTIFIED, None),
    ]


def test_automatic_mode_copies_every_stored_instance(tmp_path: Path) -> None:
    services = _services(tmp_path, auto_deidentify_profile="basic")
    queue, research = services.deid_queue, services.research
    assert queue is not None and research is not None
    study, objects = ct_study(3, rows=8, columns=8)
    for data in objects:
        assert services.ingest.store(data).ok
    assert queue.wait_idle(30)
    (copy,) = list(research.index.find_studies(StudyKeys()))
    assert copy.instance_count == 3 and copy.study_uid != study
    for key in research.blobs.list_keys("studies/"):
        data = research.blobs.get(key)
        assert b"Doe^Jane" not in data
        assert pydicom.dcmread(io.BytesIO(data)).PatientIdentityRemoved == "YES"
    # Copies are not archive changes: the research store publishes nothing, stores nothing back.
    assert [s.study_uid for s in services.index.find_studies(StudyKeys())] == [study]


def test_an_unknown_automatic_profile_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="auto_deidentify_profile"):
        load_settings(auto_deidentify_profile="everything")


# -- the local key -------------------------------------------------------------------------------
def test_the_key_file_is_created_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "deid.key"
    key = KeyFile(path)()
    assert len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyFile(path)() == key
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        KeyFile(path)()


def test_the_same_key_gives_the_same_copy_and_another_key_another(tmp_path: Path) -> None:
    first, second, third = (_services(tmp_path / name) for name in "abc")
    assert first.deid_worker is not None
    key = first.deid_worker.key()  # creates a/data/deid.key
    copied = tmp_path / "c" / "data" / "deid.key"
    copied.write_bytes(key)
    copied.chmod(0o600)
    study, objects = ct_study(1, rows=8, columns=8)
    copies = []
    for services in (first, second, third):
        assert services.ingest.store(objects[0]).ok
        worker = services.deid_worker
        assert worker is not None
        (result,) = worker.process(DeidTask(study, (_pair(objects[0]),), ProfileSpec("basic")))
        copies.append(result.research_sop_uid)
    assert copies[0] == copies[2] != copies[1]


def _pair(data: bytes) -> tuple[str, str]:
    ds = pydicom.dcmread(io.BytesIO(data))
    return str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)
