"""The retention function on moto, as the daily EventBridge schedule invokes it: studies past
the period are deleted from the bucket and the index, held and recent ones stay, the report is
the answer, the counts go out as EMF metrics, and a run short of time stops and says so."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from cloudpacs.keys import instance_key
from cloudpacs.runtime import Services, build_services
from cloudpacs.settings import settings_from_environment
from tests.support.aws_world import BUCKET, ENVIRONMENT, AwsWorld, environment
from tests.support.lambda_events import LambdaContext
from tests.support.lifecycle import backdate
from tests.support.synthetic import ct_study

SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-07T02:00:00Z",
    "region": "eu-central-1",
    "resources": ["arn:aws:events:eu-central-1:123456789012:rule/cloudpacs-test-retention-daily"],
    "detail": {},
}


class ScheduledRun(LambdaContext):
    """The retention function's context: 15 minutes to run."""

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class ShortOfTime(LambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def retention_world(world: AwsWorld) -> Iterator[Services]:
    with environment({**ENVIRONMENT, "CLOUDPACS_RETENTION_DAYS": "30"}):
        yield build_services(settings_from_environment())


def _handler() -> Any:
    settings_from_environment.cache_clear()
    sys.modules.pop("functions.retention.handler", None)
    return importlib.import_module("functions.retention.handler").handler


def _store(services: Services) -> str:
    study, objects = ct_study(2, rows=8, columns=8)
    for data in objects:
        assert services.ingest.store(data).ok
    return study


def _keys(services: Services, study: str) -> list[str]:
    partition = services.index.study_partition(study)
    assert partition is not None
    return [instance_key(r.study_uid, r.series_uid, r.sop_uid) for r in partition.instances]


def test_scheduled_run_deletes_due_studies_and_keeps_held_and_recent(
    world: AwsWorld, retention_world: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    services = retention_world
    old, held, recent = _store(services), _store(services), _store(services)
    for study in (old, held):
        backdate(services.index, study)
    services.holds.place(held, "litigation 2026-17", by="admin.ann")
    old_keys = _keys(services, old)
    handler = _handler()
    capsys.readouterr()

    report = handler(SCHEDULED_EVENT, ScheduledRun(function_name="retention"))

    assert report["deleted"] == [old] and report["held"] == [held]
    assert report["failed"] == [] and report["instances"] == 2 and report["complete"] is True
    assert services.index.study_partition(old) is None
    for key in old_keys:
        assert world.s3.list_objects_v2(Bucket=BUCKET, Prefix=key)["KeyCount"] == 0
    assert services.index.study_partition(held) is not None
    assert services.index.study_partition(recent) is not None
    out = capsys.readouterr().out.splitlines()
    emitted = [json.loads(line) for line in out if '"_aws"' in line]
    values = {
        m["Name"]: line[m["Name"]]
        for line in emitted
        for d in line["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    }
    assert values["StudiesRetired"] == [1.0] and values["StudiesRetainedOnHold"] == [1.0]
    assert values["RetentionFailures"] == [0.0]


def test_a_run_short_of_time_stops_and_the_next_continues(
    world: AwsWorld, retention_world: Services
) -> None:
    services = retention_world
    old = _store(services)
    backdate(services.index, old)
    handler = _handler()

    stopped = handler(SCHEDULED_EVENT, ShortOfTime(function_name="retention"))
    assert stopped["complete"] is False and stopped["deleted"] == []
    assert services.index.study_partition(old) is not None

    finished = handler(SCHEDULED_EVENT, ScheduledRun(function_name="retention"))
    assert finished["complete"] is True and finished["deleted"] == [old]


def test_cold_start_without_a_period_names_the_setting(world: AwsWorld) -> None:
    with pytest.raises(Exception, match="CLOUDPACS_RETENTION_DAYS"):
        _handler()
    sys.modules.pop("functions.retention.handler", None)
