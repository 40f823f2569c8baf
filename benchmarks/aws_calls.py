"""AWS calls per operation for the DynamoDB + S3 adapters, counted under moto.

botocore's ``before-call`` event fires once per API request, so the counts are exact and
independent of moto's speed: S3 PUTs and DynamoDB write requests per stored instance,
Query/Scan per study-scoped search and per metadata load.
"""

from __future__ import annotations

import collections
import os
from typing import Any

import boto3
from moto import mock_aws

from cloudpacs.adapters.aws.dynamo_index import DynamoIndex
from cloudpacs.adapters.aws.s3_store import S3BlobStore
from cloudpacs.adapters.aws.table_schema import create_table_kwargs
from cloudpacs.dicom.attributes import Level
from cloudpacs.runtime import build_services
from cloudpacs.security.audit import MemoryAuditSink
from cloudpacs.services.query_model import parse_qido
from cloudpacs.settings import load_settings
from tests.support.synthetic import ct_study

DYNAMO_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class CallCounter:
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def take(self) -> collections.Counter[str]:
        taken, self.calls = self.calls, collections.Counter()
        return taken


def run_aws_calls(instances: int = 20) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # clients the services make
    with mock_aws():
        region = "us-east-1"
        dynamo = boto3.client("dynamodb", region_name=region)
        s3 = boto3.client("s3", region_name=region)
        dynamo.create_table(**create_table_kwargs("cloudpacs-bench"))
        s3.create_bucket(Bucket="cloudpacs-bench")
        counter = CallCounter()
        for client in (dynamo, s3):
            client.meta.events.register("before-call.*.*", counter)
        settings = load_settings(
            backend="aws",
            table_name="cloudpacs-bench",
            bucket_name="cloudpacs-bench",
            audit_log_group="cloudpacs-bench-audit",
        )
        services = build_services(
            settings,
            audit=(MemoryAuditSink(), None),  # audit writes are counted by lambda_calls
            backend=(
                DynamoIndex("cloudpacs-bench", client=dynamo),
                S3BlobStore("cloudpacs-bench", client=s3),
            ),
        )
        study_uid, objects = ct_study(instances, rows=64, columns=64)
        counter.take()
        for data in objects:
            assert services.ingest.store(data).ok
        stored = counter.take()
        services.query.search(parse_qido([], Level.INSTANCE, study_uid=study_uid))
        search = counter.take()
        services.retrieve.metadata(study_uid)
        metadata_first = counter.take()
        services.retrieve.metadata(study_uid)
        metadata_warm = counter.take()
        services.query.search(parse_qido([("PatientID", "PID-0001")], Level.STUDY))
        by_patient = counter.take()
        writes = sum(n for k, n in stored.items() if k.split(":")[1] in DYNAMO_WRITES)
        return {
            "s3_put_per_instance": stored["s3:PutObject"] / instances,
            "dynamodb_write_requests_per_instance": writes / instances,
            "dynamodb_reads_per_instance_store": sum(
                n
                for k, n in stored.items()
                if k.startswith("dynamodb:") and k.split(":")[1] not in DYNAMO_WRITES
            )
            / instances,
            "study_scoped_search": dict(search),
            "study_metadata_first_load": dict(metadata_first),
            "study_metadata_warm": dict(metadata_warm),
            "studies_by_patient_id": dict(by_patient),
            "scans": sum(
                n for k, n in (stored + search + by_patient).items() if k.endswith(":Scan")
            ),
        }
