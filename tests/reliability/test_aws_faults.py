"""Fault injection on the AWS adapters (DESIGN.md §6), through the Lambda functions on moto.

Each S3, DynamoDB, SQS and EventBridge operation that ingest (STOW-RS), delete and
de-identification make is broken in turn (``faults.py``: fail, throttle, time out). Then:

- the request failed cleanly (a JSON or DICOM JSON reason, never a half-answer) or, for a
  throttle, was retried and succeeded as without the fault;
- no index entry lacks its object (archive and research store);
- after the repair sweep no object is unindexed;
- every ``InstanceStored`` event on the bus names an instance that is stored and indexed, and
  every ``InstanceDeleted`` one an instance that is gone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest

from cloudpacs.adapters.aws.dynamo_index import DynamoIndex
from cloudpacs.adapters.aws.s3_store import SIGV4, S3BlobStore
from cloudpacs.keys import instance_key
from cloudpacs.services.repair import RepairService
from tests.reliability.archive import check_answer
from tests.reliability.depth import soak
from tests.reliability.faults import MODES, FaultInjector, no_backoff
from tests.support.aws_world import BUCKET, EVENT_BUS, TABLE
from tests.support.deid_world import (
    RESEARCH_TABLE,
    DeidWorld,
    deid_world,
    deliver,
    load_all_handlers,
)
from tests.support.lambda_api import LambdaApi, LambdaTransport
from tests.support.lambda_events import REGION, claims
from tests.support.multipart_body import stow_body
from tests.support.synthetic import ct_study

SERVICES = ("s3", "dynamodb", "sqs", "events")
HARNESS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
"""What ``deliver`` does in Lambda's place (the SQS event source mapping), not the code's."""


@dataclass
class World:
    deid: DeidWorld
    handlers: dict[str, Any]
    http: httpx.Client
    faults: FaultInjector
    events_queue: str

    def store(self, n: int = 2) -> tuple[str, httpx.Response]:
        study, objects = ct_study(n, series=1, rows=4, columns=4)
        body, headers = stow_body(objects)
        return study, self.http.post("/dicom-web/studies", content=body, headers=headers)

    def ops(self, flow: Callable[[], Any]) -> list[str]:
        """The AWS operations ``flow`` makes, in first-call order."""
        self.deid.aws.log.take()
        flow()
        names = [
            name
            for name in self.deid.aws.log.names()
            if name.split(":")[0] in SERVICES and name not in HARNESS
        ]
        return list(dict.fromkeys(names))


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with deid_world() as deid, no_backoff():
        faults = FaultInjector()
        faults.attach(boto3.DEFAULT_SESSION.events)  # type: ignore[union-attr]
        queue = _bus_to_queue(deid)
        handlers = load_all_handlers()
        api = LambdaApi(handlers, claims=claims("ops.admin", groups="admin"))
        with httpx.Client(transport=LambdaTransport(api), base_url=_base(api)) as http:
            yield World(deid, handlers, http, faults, queue)


def _base(api: LambdaApi) -> str:
    from tests.support.lambda_api import BASE_URL

    return BASE_URL.removesuffix("/dicom-web")


def _bus_to_queue(deid: DeidWorld) -> str:
    """A rule sending every event of the bus to a queue, to see what was published."""
    sqs, events = deid.aws.sqs, boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName="published-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all", EventBusName=EVENT_BUS, EventPattern=json.dumps({"source": [{"prefix": ""}]})
    )
    events.put_targets(Rule="all", EventBusName=EVENT_BUS, Targets=[{"Id": "q", "Arn": arn}])
    return str(url)


def check_stores_agree(world: World) -> None:
    """No index entry without its object now; no unindexed object once repair has run."""
    s3 = boto3.client("s3", region_name=REGION, config=SIGV4)
    ddb = boto3.client("dynamodb", region_name=REGION)
    for table, prefix in ((TABLE, ""), (RESEARCH_TABLE, "research/")):
        repair = RepairService(DynamoIndex(table, client=ddb), S3BlobStore(BUCKET, s3, prefix))
        found = repair.sweep(fix=False)
        assert (found.dangling, found.unreadable) == ([], []), (table, found)
        if found.indexed:
            repair.sweep(fix=True)
            after = repair.sweep(fix=False)
            assert (after.indexed, after.dangling, after.unreadable) == ([], [], []), after


def check_events(world: World) -> None:
    """What the bus carried happened: stored instances are there (or were deleted since,
    which the bus also carried), deleted ones gone."""
    sqs = world.deid.aws.sqs
    index = DynamoIndex(TABLE, client=boto3.client("dynamodb", region_name=REGION))
    s3 = boto3.client("s3", region_name=REGION, config=SIGV4)
    published: list[tuple[str, tuple[str, str, str]]] = []
    while messages := sqs.receive_message(QueueUrl=world.events_queue, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            event = json.loads(message["Body"])
            detail = event["detail"]
            uids = (
                detail["studyInstanceUID"],
                detail["seriesInstanceUID"],
                detail["sopInstanceUID"],
            )
            published.append((event["detail-type"], uids))
            sqs.delete_message(QueueUrl=world.events_queue, ReceiptHandle=message["ReceiptHandle"])
    deleted = {uids for kind, uids in published if kind == "InstanceDeleted"}
    for kind, uids in published:
        indexed = index.get_instance(*uids) is not None
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=instance_key(*uids)).get("KeyCount")
        if kind == "InstanceStored" and uids not in deleted:
            assert indexed and listed, f"published but not stored: {uids}"
        if kind == "InstanceDeleted":
            assert not indexed, f"published as deleted but still indexed: {uids}"


def _scenarios(world: World, flow: Callable[[], Any]) -> list[tuple[str, str]]:
    """Every operation in every mode under ``make soak``; each operation in one mode (in
    turn) otherwise."""
    ops = world.ops(flow)
    assert ops, "the flow made no AWS call"
    if soak():
        return [(op, mode) for op in ops for mode in MODES]
    return [(op, MODES[i % len(MODES)]) for i, op in enumerate(ops)]


def _clean(world: World, study: str) -> None:
    """Keep the archive small, so each sweep stays quick."""
    world.http.delete(f"/dicom-web/studies/{study}")


def _answer(response: httpx.Response) -> Any:
    """A failure is clean: a JSON or DICOM JSON reason (5xx allowed: the fault is the
    server's)."""
    if response.status_code >= 500:
        media = response.headers.get("content-type", "").split(";")[0]
        assert media in ("application/json", "application/dicom+json"), response.text
        return json.loads(response.content)
    return check_answer(response)


def test_faults_during_stow(world: World) -> None:
    tried = []
    for op, mode in _scenarios(world, lambda: world.store()):
        with world.faults.breaking(op, mode) as fault:
            study, response = world.store()
        _answer(response)
        if fault.injected == 0:
            continue
        tried.append((op, mode))
        if mode == "throttle" and op.split(":")[0] != "events":
            assert response.status_code == 200, (op, mode, response.text)
        check_stores_agree(world)
        check_events(world)
        _clean(world, study)
    assert {op.split(":")[0] for op, _ in tried} >= {"s3", "dynamodb", "events"}, tried


def test_faults_during_delete(world: World) -> None:
    def seeded() -> str:
        study, response = world.store()
        assert response.status_code == 200
        return study

    first = seeded()
    tried = []
    for op, mode in _scenarios(world, lambda: world.http.delete(f"/dicom-web/studies/{first}")):
        study = seeded()
        check_events(world)
        with world.faults.breaking(op, mode) as fault:
            response = world.http.delete(f"/dicom-web/studies/{study}")
        _answer(response)
        if fault.injected == 0:
            continue
        tried.append((op, mode))
        if response.status_code == 200:
            gone = world.http.get(f"/dicom-web/studies/{study}/metadata")
            assert gone.status_code == 404, (op, mode)
        else:  # a failed delete may be retried until it is done
            retry = world.http.delete(f"/dicom-web/studies/{study}")
            assert retry.status_code in (200, 404), (op, mode, retry.text)
        check_stores_agree(world)
        check_events(world)
    assert len(tried) >= 2, tried


def test_faults_during_deidentification(world: World) -> None:
    anonymize = world.handlers["anonymize"]

    def job(study: str) -> httpx.Response:
        response = world.http.post(
            f"/dicom-web/studies/{study}/deidentify", json={"profile": "basic"}
        )
        deliver(world.deid, anonymize)
        return response

    first, _ = world.store(1)
    tried = []
    for op, mode in _scenarios(world, lambda: job(first)):
        study, stored = world.store(1)
        assert stored.status_code == 200
        with world.faults.breaking(op, mode) as fault:
            response = job(study)
        _answer(response)
        if fault.injected == 0:
            continue
        tried.append((op, mode))
        deliver(world.deid, anonymize)  # what failed is redelivered, as SQS would
        check_stores_agree(world)
        check_events(world)
        _clean(world, study)
    assert len(tried) >= 4, tried
