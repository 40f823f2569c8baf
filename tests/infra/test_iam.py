"""Least privilege: no wildcard actions anywhere, and each function holds only what its job
needs (stacks/api/stack.py has the table of who may do what)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.infra.support import KINDS, STAGES, Synthesized, resources

XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    for role in resources(template, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            found.extend(policy["PolicyDocument"]["Statement"])
    return found


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_permissions(template: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Function name -> (action, resource as text) pairs from its role's policies."""
    role_owner = {}
    for function in resources(template, "AWS::Lambda::Function").values():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        role_owner[role_id] = function["Properties"]["FunctionName"].rsplit("-", 1)[1]
    grants: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for policy in resources(template, "AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            owner = role_owner.get(role["Ref"])
            if owner is None:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                for action in _list(statement["Action"]):
                    for resource in _list(statement["Resource"]):
                        grants[owner].append((action, str(resource)))
    return grants


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_no_wildcard_actions(synthesized: Synthesized, stage: str, kind: str) -> None:
    for statement in _statements(synthesized.template_json(stage, kind)):
        for action in _list(statement["Action"]):
            assert "*" not in action, f"{kind}: wildcard action {action}"


@pytest.mark.parametrize("stage", STAGES)
def test_only_xray_on_every_resource(synthesized: Synthesized, stage: str) -> None:
    for statement in _statements(synthesized.template_json(stage, "Api")):
        if statement["Resource"] == "*":
            assert set(_list(statement["Action"])) <= XRAY


@pytest.fixture(params=STAGES)
def grants(
    request: pytest.FixtureRequest, synthesized: Synthesized
) -> dict[str, list[tuple[str, str]]]:
    return function_permissions(synthesized.template_json(request.param, "Api"))


def actions(grants: dict[str, list[tuple[str, str]]], function: str, prefix: str) -> set[str]:
    return {action for action, _ in grants[function] if action.startswith(prefix)}


def test_qido_only_reads_the_index(grants: dict[str, list[tuple[str, str]]]) -> None:
    assert actions(grants, "qido", "dynamodb:") == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
    }
    assert actions(grants, "qido", "s3:") == set()
    assert actions(grants, "qido", "kms:") == {"kms:Decrypt", "kms:DescribeKey"}


def test_wado_writes_only_its_caches(grants: dict[str, list[tuple[str, str]]]) -> None:
    """The series metadata cache, cached thumbnails, and the assembled responses of
    decision 0001."""
    assert actions(grants, "wado", "s3:") == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
    }
    puts = [resource for action, resource in grants["wado"] if action == "s3:PutObject"]
    assert len(puts) == 3
    caches = ("/studies/*/series/*/metadata.json", "/studies/*/series/*/thumbnails/*")
    assert all(any(c in r for c in (*caches, "/responses/*")) for r in puts)
    assert not actions(grants, "wado", "dynamodb:") - {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
    }


def test_only_stow_deletes_archived_objects(grants: dict[str, list[tuple[str, str]]]) -> None:
    for function, pairs in grants.items():
        deletes = [r for action, r in pairs if action == "s3:DeleteObject" and "-dicom-" in r]
        assert bool(deletes) == (function == "stow"), function


def test_ingest_reads_and_removes_inbox_objects(grants: dict[str, list[tuple[str, str]]]) -> None:
    inbox = {action for action, r in grants["ingest"] if "-inbox-" in r}
    assert inbox == {"s3:GetObject", "s3:DeleteObject"}
    assert "sqs:ReceiveMessage" in actions(grants, "ingest", "sqs:")
    stow_inbox = {action for action, r in grants["stow"] if "-inbox-" in r}
    assert stow_inbox == {"s3:PutObject", "s3:AbortMultipartUpload"}


def test_audit_log_is_append_only(grants: dict[str, list[tuple[str, str]]]) -> None:
    for function, pairs in grants.items():
        on_audit = {action for action, r in pairs if "/audit:" in r}
        if function == "anonymize":  # no audit events: the job's request is the transaction
            assert on_audit == set()
            continue
        assert on_audit == {"logs:CreateLogStream", "logs:PutLogEvents"}, function
