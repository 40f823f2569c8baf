"""The retention job's stack (stages with ``retention_days``: dev in the shipped settings): the
function, its daily schedule and dead-letter queue, least-privilege grants, alarms; and the
storage tiers of the objects bucket, Intelligent-Tiering included."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from stacks.retention.stack import RETRY_ATTEMPTS, TIMEOUT_SECONDS
from stacks.storage.buckets import DicomBucket
from tests.infra.support import Synthesized, only, resources
from tests.infra.test_iam import function_permissions

STAGE = "dev"


@pytest.fixture(scope="module")
def template(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template_json(STAGE, "Retention")


def _stack_names(synthesized: Synthesized, stage: str) -> set[str]:
    nested = synthesized.assembly.get_nested_assembly(f"assembly-{stage}")
    return {stack.stack_name for stack in nested.stacks}


def test_only_stages_with_a_retention_period_get_the_job(synthesized: Synthesized) -> None:
    for stage, settings in synthesized.settings.stages.items():
        has_stack = f"cloudpacs-{stage}-retention" in _stack_names(synthesized, stage)
        assert has_stack == (settings.retention_days is not None), stage
    assert synthesized.settings.stages[STAGE].retention_days is not None


def test_function_runs_the_job_with_the_stage_period(
    synthesized: Synthesized, template: dict[str, Any]
) -> None:
    settings = synthesized.settings.stages[STAGE]
    function = only(template, "AWS::Lambda::Function")["Properties"]
    assert function["FunctionName"] == f"cloudpacs-{STAGE}-retention"
    assert function["Handler"] == "handler.handler"
    assert function["Timeout"] == TIMEOUT_SECONDS
    assert function["TracingConfig"] == {"Mode": "Active"}
    layer_id = next(iter(resources(template, "AWS::Lambda::LayerVersion")))
    assert function["Layers"] == [{"Ref": layer_id}]
    environment = function["Environment"]["Variables"]
    assert environment["CLOUDPACS_BACKEND"] == "aws"
    assert environment["CLOUDPACS_RETENTION_DAYS"] == str(settings.retention_days)
    assert environment["CLOUDPACS_TABLE_NAME"] == f"cloudpacs-{STAGE}-index"
    assert environment["CLOUDPACS_EVENT_BUS_NAME"] == f"cloudpacs-{STAGE}"
    assert environment["CLOUDPACS_BUCKET_NAME"].startswith(f"cloudpacs-{STAGE}-dicom-")
    assert environment["POWERTOOLS_SERVICE_NAME"] == "retention"
    queue_id = next(iter(resources(template, "AWS::SQS::Queue")))
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}


def test_runs_daily_at_the_stage_hour_with_retries_and_dead_letters(
    synthesized: Synthesized, template: dict[str, Any]
) -> None:
    hour = synthesized.settings.stages[STAGE].retention_hour_utc
    rule = only(template, "AWS::Events::Rule")["Properties"]
    assert rule["ScheduleExpression"] == f"cron(0 {hour} * * ? *)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    function_id = next(iter(resources(template, "AWS::Lambda::Function")))
    queue_id = next(iter(resources(template, "AWS::SQS::Queue")))
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == RETRY_ATTEMPTS
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    permission = only(template, "AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    rule_id = next(iter(resources(template, "AWS::Events::Rule")))
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    invoke = only(template, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert invoke["MaximumRetryAttempts"] == RETRY_ATTEMPTS


def test_dead_letter_queue_is_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    queue = only(template, "AWS::SQS::Queue")["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    policy = only(template, "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Statement"]
    )


def test_grants_are_the_delete_side_only(template: dict[str, Any]) -> None:
    pairs = function_permissions(template)["retention"]
    assert all("*" not in action for action, _ in pairs)
    s3_actions = {(action, resource) for action, resource in pairs if action.startswith("s3:")}
    assert {action for action, _ in s3_actions} == {"s3:DeleteObject", "s3:ListBucket"}
    deletes = [resource for action, resource in s3_actions if action == "s3:DeleteObject"]
    assert len(deletes) == 2 and all("-dicom-" in resource for resource in deletes)
    assert {"studies/*", "responses/*"} == {
        prefix for prefix in ("studies/*", "responses/*") for r in deletes if f"/{prefix}" in r
    }
    dynamodb = {action for action, _ in pairs if action.startswith("dynamodb:")}
    assert "dynamodb:Scan" not in dynamodb
    assert {"dynamodb:Query", "dynamodb:DeleteItem"} <= dynamodb
    assert {action for action, _ in pairs if action.startswith("kms:")} == {
        "kms:Decrypt",
        "kms:DescribeKey",
    }
    events = [resource for action, resource in pairs if action == "events:PutEvents"]
    assert len(events) == 1 and f"event-bus/cloudpacs-{STAGE}" in events[0]
    audit = {action for action, resource in pairs if "/audit:" in resource}
    assert audit == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert not any(action.startswith(("secretsmanager:", "sqs:Receive")) for action, _ in pairs)


def test_alarms_notify_the_stage_topic(template: dict[str, Any]) -> None:
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    names = {f"cloudpacs-{STAGE}-retention-{kind}"
             for kind in ("errors", "failures", "dead-letters", "not-run")}  # fmt: skip
    assert set(alarms) == names
    for alarm in alarms.values():
        (action,) = alarm["AlarmActions"]
        assert f":cloudpacs-{STAGE}-alarms" in str(action)
    not_run = alarms[f"cloudpacs-{STAGE}-retention-not-run"]
    assert not_run["ComparisonOperator"] == "LessThanThreshold"
    assert not_run["TreatMissingData"] == "breaching"
    failures = alarms[f"cloudpacs-{STAGE}-retention-failures"]
    assert failures["MetricName"] == "RetentionFailures"
    assert failures["Dimensions"] == [{"Name": "service", "Value": "retention"}]


def _dicom_transitions(intelligent_tiering: bool) -> list[dict[str, Any]]:
    stack = Stack(App(), "Tiers")
    DicomBucket(
        stack,
        "Dicom",
        bucket_name="cloudpacs-test-dicom",
        key=kms.Key(stack, "Key"),
        access_logs=s3.Bucket(stack, "Logs"),
        infrequent_access_after_days=90,
        glacier_instant_retrieval_after_days=365,
        noncurrent_version_expiry_days=30,
        cors_origins=(),
        removal_policy=RemovalPolicy.DESTROY,
        intelligent_tiering=intelligent_tiering,
    )
    bucket = Template.from_stack(stack).find_resources(
        "AWS::S3::Bucket", {"Properties": {"BucketName": "cloudpacs-test-dicom"}}
    )
    (props,) = (b["Properties"] for b in bucket.values())
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    transitions: list[dict[str, Any]] = rules["cheaper-tiers"]["Transitions"]
    return transitions


def test_intelligent_tiering_replaces_the_fixed_transitions() -> None:
    assert _dicom_transitions(False) == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 90},
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 365},
    ]
    assert _dicom_transitions(True) == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}
    ]
