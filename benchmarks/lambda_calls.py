"""AWS requests per DICOMweb operation through the Lambda handlers, counted under moto.

Where ``aws_calls.py`` counts the index and blob store alone, this goes through what a request
in AWS runs: API Gateway's event, the function's handler, the services, the audit trail
(CloudWatch Logs) and the change events (EventBridge). botocore's ``before-call`` fires once
per request, so the counts are exact; they are the inputs of docs/cost.md. Item sizes of the
index are reported too, since DynamoDB bills reads per 4 KB and writes per 1 KB.

``run(report)`` adds ``report["lambda_calls"]``.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import httpx
import pydicom
from pydicom.uid import generate_uid

from tests.support.aws_world import TABLE, AwsWorld, aws_world, deliver_inbox, load_handlers
from tests.support.lambda_api import BASE_URL, LambdaApi, LambdaTransport
from tests.support.lambda_events import claims
from tests.support.multipart_body import stow_body
from tests.support.synthetic import ct_instance
from tests.support.upload_flow import start_upload

SERIES_SIZE = 100


def _calls(world: AwsWorld) -> dict[str, int]:
    return dict(sorted(Counter(world.log.names()).items()))


def _item_sizes(world: AwsWorld) -> dict[str, int]:
    """Approximate stored size of each kind of index item (attribute names and values)."""
    sizes: dict[str, list[int]] = {}
    for page in world.dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        for item in page["Items"]:
            sk = item["sk"]["S"]
            kind = "instance" if "#SOP#" in sk else "series" if sk.startswith("SERIES") else sk
            size = len(json.dumps(item, default=lambda b: "x" * len(b)))
            sizes.setdefault(kind.lower(), []).append(size)
    return {kind: round(sum(v) / len(v)) for kind, v in sizes.items()}


def run(report: dict[str, Any]) -> None:
    out: dict[str, Any] = {}
    with aws_world() as world:
        handlers = load_handlers()
        api = LambdaApi(handlers, claims=claims("pacs.admin", groups="admin"))
        client = httpx.Client(transport=LambdaTransport(api), base_url=BASE_URL, timeout=120)
        study, series = generate_uid(), generate_uid()
        objects = [
            ct_instance(study, series, n + 1, rows=64, columns=64) for n in range(SERIES_SIZE)
        ]
        sops = [
            str(pydicom.dcmread(io.BytesIO(o), stop_before_pixels=True).SOPInstanceUID)
            for o in objects
        ]
        body, headers = stow_body(objects[:1])
        world.log.take()
        client.post("/studies", content=body, headers=headers)
        out["stow_first_instance_of_a_study"] = _calls(world)
        body, headers = stow_body(objects[1:2])
        client.post("/studies", content=body, headers=headers)
        out["stow_1_instance_per_request"] = _calls(world)
        body, headers = stow_body(objects[2:12])
        client.post("/studies", content=body, headers=headers)
        out["stow_10_instances_per_request"] = _calls(world)
        body, headers = stow_body(objects[12:])
        client.post("/studies", content=body, headers=headers)
        world.log.take()
        upload = ct_instance(study, series, 0, rows=64, columns=64)
        upload_id = start_upload(client, upload)
        out["upload_api_and_client"] = _calls(world)
        deliver_inbox(world, handlers["ingest"])
        out["upload_ingest"] = _calls(world)
        client.get(f"/uploads/{upload_id}")
        out["upload_status"] = _calls(world)
        client.get("/studies", params={"PatientID": "PID-0001"})
        out["qido_studies_by_patient_id"] = _calls(world)
        client.get(f"/studies/{study}/instances")
        out["qido_instances_of_a_study"] = _calls(world)
        path = f"/studies/{study}/series/{series}/metadata"
        client.get(path)
        out[f"series_metadata_first_load_{SERIES_SIZE + 1}_instances"] = _calls(world)
        client.get(path)
        out["series_metadata_warm"] = _calls(world)
        client.get(
            f"/studies/{study}/series/{series}/instances/{sops[0]}/frames/1",
            headers={"Accept": 'multipart/related; type="application/octet-stream"'},
        )
        out["frame"] = _calls(world)
        client.get(f"/studies/{study}/series/{series}/instances/{sops[0]}")
        out["instance_inline"] = _calls(world)
        out["index_item_bytes"] = _item_sizes(world)
        out["invocations"] = Counter(name for name, _, _ in api.invocations)
    report["lambda_calls"] = out


if __name__ == "__main__":
    import sys

    result: dict[str, Any] = {}
    run(result)
    json.dump(result, sys.stdout, indent=2, default=dict)
    print()
