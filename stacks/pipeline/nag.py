"""cdk-nag findings of the pipeline that are accepted, each with its reason.

CDK Pipelines generates one role per CodeBuild project and pipeline action. Each may use only
its own project's logs and reports, the artifact bucket and its key, and what a step is given
explicitly (the scan step: ECR scan findings of the assets repository; the check steps: their
stage's release-checks secret). The wildcards that remain are the shapes CDK Pipelines and the
services need. Every one is acknowledged here by its exact finding id with the reason for its
kind; a wildcard of a kind not listed stops synth, so a new one is reviewed before it ships.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from stacks.acknowledge import acknowledge

WILDCARD_REASONS: tuple[tuple[str, str], ...] = (
    (
        r"^Action::(s3|kms):",
        "Action groups CDK grants on the pipeline's own artifact bucket and its key "
        "(s3:GetObject*, s3:List*, kms:GenerateDataKey*, kms:ReEncrypt*), scoped to those "
        "two resources.",
    ),
    (
        r"^Resource::<Artifacts[0-9A-F]+\.Arn>/\*$",
        "Objects of the pipeline's own artifact bucket, whose keys are per execution; no "
        "other bucket is reachable.",
    ),
    (
        r"^Resource::arn:aws:logs:[a-z0-9-]+:[0-9]{12}:log-group:/aws/codebuild/",
        "CodeBuild writes each build's logs to a stream named per build in the project's "
        "own log group (asset projects: the log groups of the pipeline's asset builds).",
    ),
    (
        r"^Resource::arn:aws:codebuild:[a-z0-9-]+:[0-9]{12}:report-group/",
        "CodeBuild test report groups are named after the project and created per build.",
    ),
    (
        r"^Resource::arn:\*:iam::[0-9]{12}:role/\*$",
        "Self-mutation assumes the CDK bootstrap roles (cdk-hnb659fds-deploy-role and the "
        "lookup role), which are the ones holding deployment permissions.",
    ),
    (
        r"^Resource::\*$",
        "APIs without resource-level permissions that the asset and self-mutation projects "
        "call: cloudformation:DescribeStacks and s3:ListBucket to locate the bootstrap "
        "resources, codebuild:StartBuild / BatchGetBuilds for the pipeline's build actions.",
    ),
)


def _nag_text(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag writes it in a finding id."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}]+)\}", r"<\1>", value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_nag_text(part) for part in parts)
    return json.dumps(value, separators=(",", ":"))  # other intrinsics: as cdk-nag prints them


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_findings(policy: iam.CfnPolicy) -> list[str]:
    """The ``AwsSolutions-IAM5[...]`` ids cdk-nag reports for ``policy``'s wildcards."""
    document = Stack.of(policy).resolve(policy.policy_document)
    found = []
    for statement in document.get("Statement", []):
        for action in _as_list(statement.get("Action", [])):
            if "*" in action:
                found.append(f"Action::{action}")
        for resource in _as_list(statement.get("Resource", [])):
            text = _nag_text(resource)
            if "*" in text:
                found.append(f"Resource::{text}")
    return sorted(set(found))


def acknowledge_wildcards(
    scope: IConstruct, reviewed: Sequence[tuple[str, str]], owner: str
) -> None:
    """Acknowledge each ``AwsSolutions-IAM5`` wildcard of the policies below ``scope`` with
    the reason of the first ``reviewed`` (pattern, reason) it matches; a wildcard no pattern
    matches stops synth, naming ``owner``."""
    for construct in scope.node.find_all():
        if isinstance(construct, iam.CfnPolicy):
            for finding in wildcard_findings(construct):
                rule = f"AwsSolutions-IAM5[{finding}]"
                acknowledge(construct, rule, _reason(rule, reviewed, owner))


def _reason(rule: str, reviewed: Sequence[tuple[str, str]], owner: str) -> str:
    finding = rule.removeprefix("AwsSolutions-IAM5[").removesuffix("]")
    for pattern, reason in reviewed:
        if re.search(pattern, finding):
            return reason
    raise ValueError(f"{owner} has a wildcard nobody reviewed: {rule}")


PIPELINE_REASONS = {
    "HIPAA.Security-IAMNoInlinePolicy": (
        "Each inline policy belongs to exactly one role that CDK Pipelines creates for one "
        "project or action; no user or group holds a policy and nothing else can attach it."
    ),
    "HIPAA.Security-CodeBuildProjectSourceRepoUrl": (
        "No project has a repository source: every project reads its input from the "
        "pipeline's artifacts (source type CODEPIPELINE); the repository is reached only "
        "through the CodeConnections connection, an OAuth app installation."
    ),
}


def acknowledge_pipeline(pipeline: IConstruct, artifacts: IConstruct) -> None:
    """Acknowledge the pipeline's findings; call once the pipeline is built."""
    for rule, reason in PIPELINE_REASONS.items():
        acknowledge(pipeline, rule, reason)
    acknowledge_wildcards(pipeline, WILDCARD_REASONS, "the pipeline")
    acknowledge(
        artifacts,
        "HIPAA.Security-S3BucketReplicationEnabled",
        "Pipeline artifacts (source snapshots, cloud assemblies, release documents) are "
        "rebuilt from the repository by re-running the pipeline; they hold no patient data.",
    )
