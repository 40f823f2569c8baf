"""De-identification's infrastructure: the anonymize function and its queues, the
research store and its function, the pseudonym secret, least-privilege grants, the routes,
automatic mode, alarms and dashboard; cdk-nag stays clean with automatic mode on as well."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdk_app.app import build_app
from cdk_app.settings import DEFAULT_STAGES_FILE, load_settings
from cdk_app.validation import findings
from cloudpacs.services.deid_model import AUTO_EVENT_PATTERN
from stacks.dimse.image import BridgeImage
from stacks.work_queue import MAX_RECEIVE_COUNT
from tests.infra.support import STAGES, Synthesized, only, placeholder_assets, resources

Statement = dict[str, Any]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any], function: str) -> list[Statement]:
    """The statements of the policies attached to ``function``'s role."""
    role_id = next(
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["FunctionName"].endswith(f"-{function}")
    )
    found: list[Statement] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def granted(template: dict[str, Any], function: str, prefix: str) -> list[tuple[str, str, str]]:
    """(action, resource, condition) triples of ``function`` whose action starts with prefix."""
    return [
        (action, json.dumps(resource), json.dumps(statement.get("Condition", {})))
        for statement in statements(template, function)
        for action in _list(statement["Action"])
        for resource in _list(statement["Resource"])
        if action.startswith(prefix)
    ]


@pytest.fixture(params=STAGES)
def api(request: pytest.FixtureRequest, synthesized: Synthesized) -> dict[str, Any]:
    template: dict[str, Any] = synthesized.template_json(request.param, "Api")
    template["stage"] = request.param
    return template


def test_the_anonymize_function_consumes_its_own_queue(api: dict[str, Any]) -> None:
    queues = resources(api, "AWS::SQS::Queue")
    names = {q["Properties"]["QueueName"]: (k, q["Properties"]) for k, q in queues.items()}
    stage = api["stage"]
    main_id, main = names[f"cloudpacs-{stage}-anonymize"]
    dead_id, _ = names[f"cloudpacs-{stage}-anonymize-dlq"]
    assert main["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]},
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    assert all("KmsMasterKeyId" in q["Properties"] for q in queues.values())
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"]
        for f in resources(api, "AWS::Lambda::Function").values()
    }
    anonymize = functions[f"cloudpacs-{stage}-anonymize"]
    assert main["VisibilityTimeout"] >= 6 * anonymize["Timeout"]
    (mapping,) = [
        m["Properties"]
        for m in resources(api, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [main_id, "Arn"]}
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 1
    env = anonymize["Environment"]["Variables"]
    assert env["CLOUDPACS_RESEARCH_TABLE_NAME"] == f"cloudpacs-{stage}-research"
    assert env["CLOUDPACS_DEID_SECRET_ID"] == f"cloudpacs/{stage}/deid-key"
    assert env["CLOUDPACS_DEID_MAX_RECEIVES"] == str(MAX_RECEIVE_COUNT)
    assert "CLOUDPACS_AUTO_DEIDENTIFY_PROFILE" not in env  # automatic mode is off by default
    assert "CLOUDPACS_DEID_QUEUE_URL" not in env
    deidentify = functions[f"cloudpacs-{stage}-deidentify"]["Environment"]["Variables"]
    assert deidentify["CLOUDPACS_DEID_QUEUE_URL"] == {"Ref": main_id}
    research = functions[f"cloudpacs-{stage}-research"]["Environment"]["Variables"]
    assert research["CLOUDPACS_RESEARCH_TABLE_NAME"] == f"cloudpacs-{stage}-research"
    assert not resources(api, "AWS::Events::Rule")


def test_only_the_anonymize_function_reads_the_secret(
    api: dict[str, Any], synthesized: Synthesized
) -> None:
    storage = synthesized.template_json(api["stage"], "Storage")
    secret = only(storage, "AWS::SecretsManager::Secret")["Properties"]
    assert secret["Name"] == f"cloudpacs/{api['stage']}/deid-key"
    assert "KmsKeyId" in secret
    generated = secret["GenerateSecretString"]
    assert generated["PasswordLength"] == 64 and generated["ExcludePunctuation"] is True
    holders = {
        f["Properties"]["FunctionName"].rsplit("-", 1)[1]
        for f in resources(api, "AWS::Lambda::Function").values()
        if granted(api, f["Properties"]["FunctionName"].rsplit("-", 1)[1], "secretsmanager:")
    }
    assert holders == {"anonymize"}
    (read,) = granted(api, "anonymize", "secretsmanager:")
    assert read[0] == "secretsmanager:GetSecretValue"
    assert "DeidKey" in read[1]


def test_the_research_function_holds_nothing_of_the_archive(api: dict[str, Any]) -> None:
    stage = api["stage"]
    tables = {resource for _, resource, _ in granted(api, "research", "dynamodb:")}
    assert tables and all(f"table/cloudpacs-{stage}-research" in r for r in tables)
    assert {a for a, _, _ in granted(api, "research", "dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
    }
    objects = granted(api, "research", "s3:")
    assert objects and all("-dicom-" in r and "/research/" in r for _, r, _ in objects)
    writes = {r for a, r, _ in objects if a == "s3:PutObject"}
    caches = ("metadata.json", "/thumbnails/*", "/research/responses/*")
    assert all(any(c in r for c in caches) for r in writes)
    assert not granted(api, "research", "sqs:") and not granted(api, "research", "events:")


def test_the_anonymize_function_reads_the_archive_and_writes_the_copy(api: dict[str, Any]) -> None:
    stage = api["stage"]
    archive = [g for g in granted(api, "anonymize", "dynamodb:") if f"-{stage}-index" in g[1]]
    assert {(a, c) for a, _, c in archive} == {
        ("dynamodb:GetItem", json.dumps(_leading("STUDY#*"))),
        ("dynamodb:BatchWriteItem", json.dumps(_leading("JOB#*"))),
    }
    research = {a for a, r, _ in granted(api, "anonymize", "dynamodb:") if "-research" in r}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"} <= research
    objects = granted(api, "anonymize", "s3:")
    archive_objects = {a for a, r, _ in objects if "/studies/*" in r and "/research/" not in r}
    assert archive_objects == {"s3:GetObject"}
    copies = {a for a, r, _ in objects if "/research/studies/*" in r}
    assert copies == {"s3:GetObject", "s3:PutObject"}
    assert not any(a == "s3:DeleteObject" for a, _, _ in objects)
    assert "sqs:ReceiveMessage" in {a for a, _, _ in granted(api, "anonymize", "sqs:")}


def test_the_deidentify_function_queues_jobs_and_writes_only_job_items(
    api: dict[str, Any],
) -> None:
    writes = [
        (a, c)
        for a, _, c in granted(api, "deidentify", "dynamodb:")
        if a in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem")
    ]
    assert sorted(writes) == [
        ("dynamodb:PutItem", json.dumps(_leading("JOB#*"))),
        ("dynamodb:UpdateItem", json.dumps(_leading("JOB#*"))),
    ]
    (send,) = granted(api, "deidentify", "sqs:")
    assert send[0] == "sqs:SendMessage" and "AnonymizeQueue" in send[1]
    assert not granted(api, "deidentify", "s3:")
    assert not granted(api, "deidentify", "secretsmanager:")


def _leading(pattern: str) -> dict[str, Any]:
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [pattern]}}


def test_routes_of_the_operation_and_of_the_research_root(api: dict[str, Any]) -> None:
    resources_by_id = resources(api, "AWS::ApiGateway::Resource")

    def path_of(resource_id: str) -> str:
        parts = []
        while resource_id in resources_by_id:
            props = resources_by_id[resource_id]["Properties"]
            parts.append(props["PathPart"])
            parent = props["ParentId"]
            resource_id = parent.get("Ref", "") if isinstance(parent, dict) else ""
        return "/" + "/".join(reversed(parts))

    methods = {}
    for method in resources(api, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue
        uri = json.dumps(props["Integration"]["Uri"])
        function = next(
            name
            for name in ("deidentify", "research", "qido", "wado", "stow")
            if name.capitalize() in uri
        )
        methods[(props["HttpMethod"], path_of(props["ResourceId"]["Ref"]))] = function
    assert methods[("POST", "/dicom-web/studies/{study}/deidentify")] == "deidentify"
    assert methods[("GET", "/dicom-web/jobs/{job}")] == "deidentify"
    research = {k: v for k, v in methods.items() if k[1].startswith("/research/")}
    assert (
        len(research) == 44
    )  # 22 GET routes (searches, retrieves, rendered, thumbnails), each with its HEAD twin
    assert set(research.values()) == {"research"}
    assert {method for method, _ in research} == {"GET", "HEAD"}


def test_the_dashboard_shows_de_identification(synthesized: Synthesized) -> None:
    for stage in STAGES:
        monitoring = synthesized.template_json(stage, "Monitoring")
        body = json.dumps(only(monitoring, "AWS::CloudWatch::Dashboard")["Properties"])
        for needle in ("De-identification queue", "InstancesDeidentified", "InstancesQuarantined"):
            assert needle in body


# -- automatic mode --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def automatic(tmp_path_factory: pytest.TempPathFactory, bridge_image: BridgeImage) -> Synthesized:
    """The dev stage alone, with automatic de-identification on."""
    root = tmp_path_factory.mktemp("auto")
    document = yaml.safe_load(DEFAULT_STAGES_FILE.read_text(encoding="utf-8"))
    document["stages"] = {"dev": document["stages"]["dev"]}
    document.pop("pipeline")  # it deploys staging and prod, which this app does not have
    document["stages"]["dev"].update(auto_deidentify=True, auto_deidentify_profile="gdpr")
    stages_file = root / "stages.yaml"
    stages_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    app = build_app(
        assets=placeholder_assets(root),
        bridge_image=bridge_image,
        outdir=str(root / "cdk.out"),
        context={
            "cloudpacs:stagesFile": str(stages_file),
            "@aws-cdk/core:failSynthOnValidationErrors": False,
        },
    )
    return Synthesized(app=app, assembly=app.synth(), settings=load_settings(stages_file))


def test_automatic_mode_routes_stored_instances_to_the_queue(automatic: Synthesized) -> None:
    api = automatic.template_json("dev", "Api")
    rule = only(api, "AWS::Events::Rule")["Properties"]
    assert rule["Name"] == "cloudpacs-dev-auto-deidentify"
    assert rule["EventPattern"] == {
        "source": AUTO_EVENT_PATTERN["source"],
        "detail-type": AUTO_EVENT_PATTERN["detail-type"],
    }
    (target,) = rule["Targets"]
    queues = resources(api, "AWS::SQS::Queue")
    (queue_id,) = [
        k for k, q in queues.items() if q["Properties"]["QueueName"].endswith("-anonymize")
    ]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    anonymize = next(
        f["Properties"]
        for f in resources(api, "AWS::Lambda::Function").values()
        if f["Properties"]["FunctionName"] == "cloudpacs-dev-anonymize"
    )
    assert anonymize["Environment"]["Variables"]["CLOUDPACS_AUTO_DEIDENTIFY_PROFILE"] == "gdpr"
    # EventBridge may send to the queue and use its key for this one rule only.
    documents = [k["Properties"]["KeyPolicy"] for k in resources(api, "AWS::KMS::Key").values()]
    documents += [
        p["Properties"]["PolicyDocument"] for p in resources(api, "AWS::SQS::QueuePolicy").values()
    ]
    statements = [
        s
        for document in documents
        for s in document["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert len(statements) == 2
    assert statements and all("aws:SourceArn" in json.dumps(s["Condition"]) for s in statements)
    assert all(
        "rule/cloudpacs-dev/cloudpacs-dev-auto-deidentify" in json.dumps(s["Condition"])
        for s in statements
    )


def test_automatic_mode_passes_the_compliance_packs(automatic: Synthesized) -> None:
    unacknowledged = findings(automatic.assembly.directory, severities=("error", "warning"))
    assert unacknowledged == [], "\n".join(str(f) for f in unacknowledged)


def test_an_unknown_automatic_profile_is_refused(tmp_path: Path) -> None:
    from cdk_app.settings import StageConfigError

    document = yaml.safe_load(DEFAULT_STAGES_FILE.read_text(encoding="utf-8"))
    document["stages"]["dev"]["auto_deidentify_profile"] = "everything"
    stages_file = tmp_path / "stages.yaml"
    stages_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(StageConfigError, match="auto_deidentify_profile"):
        load_settings(stages_file)
