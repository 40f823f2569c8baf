"""Monitoring: a dashboard per stage and alarms on what on-call acts on, to an encrypted topic
that mails the stage's address."""

from __future__ import annotations

import json

import pytest

from tests.infra.support import FUNCTIONS, STAGES, Synthesized, only, resources

EXPECTED_ALARMS = {
    "ingest-dead-letters",
    "ingest-backlog",
    "index-throttles",
    "anonymize-dead-letters",
    "anonymize-backlog",
    *(f"{name}-errors" for name in FUNCTIONS),
    *(f"{name}-throttles" for name in FUNCTIONS),
}


@pytest.mark.parametrize("stage", STAGES)
def test_alarms_notify_the_stage_topic(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Monitoring")
    topic_id = next(iter(resources(template, "AWS::SNS::Topic")))
    alarms = {
        a["Properties"]["AlarmName"].removeprefix(f"cloudpacs-{stage}-"): a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == EXPECTED_ALARMS
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["AlarmDescription"], name


@pytest.mark.parametrize("stage", STAGES)
def test_topic_is_encrypted_and_mails_the_stage(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Monitoring")
    topic = only(template, "AWS::SNS::Topic")["Properties"]
    assert "KmsMasterKeyId" in topic
    subscription = only(template, "AWS::SNS::Subscription")["Properties"]
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == synthesized.settings.stages[stage].alarm_email
    policy = only(template, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Statement"]
    )


@pytest.mark.parametrize("stage", STAGES)
def test_dashboard_shows_api_functions_index_and_app_metrics(
    synthesized: Synthesized, stage: str
) -> None:
    dashboard = only(synthesized.template_json(stage, "Monitoring"), "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for needle in (
        "Latency",
        "p99",
        "4XXError",
        "5XXError",
        "Duration",
        "Throttles",
        "ConcurrentExecutions",
        "ReadThrottleEvents",
        "ApproximateAgeOfOldestMessage",
        "InstancesStored",
        "BytesServed",
        "QueryResults",
    ):
        assert needle in body, needle
