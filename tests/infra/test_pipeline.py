"""The delivery pipeline as synthesized: its stages in order, each step's commands, the
approval and its notification, the scan gate, least-privilege roles; and the rollback it
relies on (CodeDeploy on every HTTP function's alias, watched by the API's alarms; the
bridge's circuit breaker)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cloudpacs import __version__
from stacks.api.routes import FUNCTIONS as HTTP_FUNCTIONS
from tests.infra.support import COMMIT, STAGES, Synthesized, only, resources

PIPELINE_ORDER = [
    "Source", "Build", "UpdatePipeline", "Assets", "ImageScan", "staging", "prod", "Docs",
]  # fmt: skip


@pytest.fixture(scope="module")
def pipeline(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.pipeline_json()


@pytest.fixture(scope="module")
def stages(pipeline: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    definition = only(pipeline, "AWS::CodePipeline::Pipeline")["Properties"]
    return {stage["Name"]: stage["Actions"] for stage in definition["Stages"]}


def _projects(pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """CodeBuild projects by the step id in their logical id."""
    return resources(pipeline, "AWS::CodeBuild::Project")


def _project(pipeline: dict[str, Any], step: str) -> tuple[str, dict[str, Any]]:
    found = [(pid, p) for pid, p in _projects(pipeline).items() if step in pid]
    assert len(found) == 1, f"{step}: {list(_projects(pipeline))}"
    return found[0]


def _buildspec(project: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(project["Properties"]["Source"]["BuildSpec"])
    return spec


def _commands(project: dict[str, Any]) -> list[str]:
    phases = _buildspec(project)["phases"]
    return [*phases.get("install", {}).get("commands", []), *phases["build"]["commands"]]


def _statements(pipeline: dict[str, Any], project_id: str) -> list[dict[str, Any]]:
    """The statements of the policy on the role of ``project_id``."""
    role = _projects(pipeline)[project_id]["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(pipeline, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    return [statement for policy in policies for statement in policy]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        actions = statement["Action"]
        found |= set(actions if isinstance(actions, list) else [actions])
    return found


def _order(actions: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return sorted((a["RunOrder"], a["Name"]) for a in actions)


def test_stages_run_in_release_order(stages: dict[str, list[dict[str, Any]]]) -> None:
    assert list(stages) == PIPELINE_ORDER


def test_source_comes_through_the_connection(
    synthesized: Synthesized, stages: dict[str, list[dict[str, Any]]]
) -> None:
    settings = synthesized.settings.pipeline
    assert settings is not None
    (source,) = stages["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == settings.connection_arn
    assert source["Configuration"]["FullRepositoryId"] == settings.repository
    assert source["Configuration"]["BranchName"] == settings.branch


def test_pipeline_mutates_itself(stages: dict[str, list[dict[str, Any]]]) -> None:
    assert [a["Name"] for a in stages["UpdatePipeline"]] == ["SelfMutate"]


def test_synth_runs_analysis_every_suite_and_synth(pipeline: dict[str, Any]) -> None:
    _, project = _project(pipeline, "Synth")
    commands = _commands(project)
    assert "make venv" in commands
    assert commands[-3:] == [
        "make lint typecheck security",
        "make test-unit test-contract test-api test-dimse test-infra",
        "make synth",
    ]
    assert _buildspec(project)["artifacts"]["base-directory"] == "cdk.out"


def test_image_scan_gates_before_staging(
    synthesized: Synthesized, pipeline: dict[str, Any], stages: dict[str, list[dict[str, Any]]]
) -> None:
    assert [a["Name"] for a in stages["Assets"]] == ["DockerAssets", "FileAssets"]
    project_id, project = _project(pipeline, "ScanBridgeImage")
    settings = synthesized.settings.pipeline
    assert settings is not None
    assert _commands(project)[-1] == (
        "python -m stacks.pipeline.image_scan cdk.out --stage staging --stage prod "
        f"--fail-at {settings.image_scan_fail_at}"
    )
    ecr = [s for s in _statements(pipeline, project_id) if "ecr:" in json.dumps(s["Action"])]
    assert ecr == [
        {
            "Action": ["ecr:DescribeImageScanFindings", "ecr:StartImageScan"],
            "Effect": "Allow",
            "Resource": "arn:aws:ecr:eu-central-1:000000000000:repository/"
            "cdk-hnb659fds-container-assets-000000000000-eu-central-1",
        }
    ]


def test_staging_is_checked_after_every_stack_is_deployed(
    stages: dict[str, list[dict[str, Any]]],
) -> None:
    order = _order(stages["staging"])
    deploys = [run for run, name in order if name.endswith(".Deploy")]
    assert len(deploys) == 7
    checks = [(run, name) for run, name in order if run > max(deploys)]
    assert [name for _, name in checks] == [
        "SmokeTest-staging",
        "LoadTest-staging",
        "CleanUp-staging",
    ]
    assert len({run for run, _ in checks}) == 3  # one after the other


def test_prod_waits_for_approval_and_is_smoke_tested(
    stages: dict[str, list[dict[str, Any]]],
) -> None:
    order = _order(stages["prod"])
    assert order[0] == (1, "ApproveRelease")
    approval = next(a for a in stages["prod"] if a["Name"] == "ApproveRelease")
    assert approval["ActionTypeId"]["Category"] == "Approval"
    assert all(run > 1 for run, name in order[1:])
    assert order[-1][1] == "SmokeTest-prod"
    assert sum(name.endswith(".Deploy") for _, name in order) == 7


def test_approval_is_notified_by_encrypted_sns(
    synthesized: Synthesized, pipeline: dict[str, Any]
) -> None:
    rule = only(pipeline, "AWS::CodeStarNotifications::NotificationRule")["Properties"]
    assert "codepipeline-pipeline-manual-approval-needed" in rule["EventTypeIds"]
    (target,) = rule["Targets"]
    topics = resources(pipeline, "AWS::SNS::Topic")
    assert target["TargetType"] == "SNS" and target["TargetAddress"]["Ref"] in topics
    assert "KmsMasterKeyId" in topics[target["TargetAddress"]["Ref"]]["Properties"]
    subscription = only(pipeline, "AWS::SNS::Subscription")["Properties"]
    assert synthesized.settings.pipeline is not None
    assert subscription["Endpoint"] == synthesized.settings.pipeline.approval_email


@pytest.mark.parametrize("step", ["SmokeTest-staging", "LoadTest-staging", "CleanUp-staging"])
def test_check_steps_read_their_stage_secret_and_nothing_else(
    synthesized: Synthesized, pipeline: dict[str, Any], step: str
) -> None:
    project_id, project = _project(pipeline, step.replace("-", ""))
    (variable,) = project["Properties"]["Environment"]["EnvironmentVariables"]
    assert variable == {
        "Name": "CLOUDPACS_CHECK_CREDENTIALS",
        "Type": "SECRETS_MANAGER",
        "Value": "cloudpacs-staging-release-checks",
    }
    statements = _statements(pipeline, project_id)
    secrets = [s for s in statements if "secretsmanager:" in json.dumps(s["Action"])]
    assert secrets == [
        {
            "Action": "secretsmanager:GetSecretValue",
            "Effect": "Allow",
            "Resource": "arn:aws:secretsmanager:eu-central-1:000000000000:secret:"
            "cloudpacs-staging-release-checks-??????",
        }
    ]
    assert {a.split(":")[0] for a in _actions(statements)} == {
        "secretsmanager", "logs", "codebuild", "s3", "kms",
    }  # fmt: skip
    limits = synthesized.settings.pipeline.load_test  # type: ignore[union-attr]
    if step.startswith("LoadTest"):
        assert _commands(project)[-1] == (
            f'cloudpacs load "$DICOMWEB_URL" --users {limits.users} --duration '
            f"{limits.duration_seconds} --max-error-rate {limits.max_error_rate} "
            f"--max-p95-ms {limits.max_p95_ms}"
        )


def test_no_role_may_do_everything(pipeline: dict[str, Any]) -> None:
    for policy in resources(pipeline, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            assert not any(a == "*" or a.endswith(":*") for a in actions), statement
            assert statement["Effect"] == "Allow"


def test_docs_step_publishes_the_release_documents(pipeline: dict[str, Any]) -> None:
    _, project = _project(pipeline, "ReleaseDocuments")
    assert _commands(project)[-1] == "make docs"
    assert _buildspec(project)["artifacts"]["base-directory"] == "build/docs"


@pytest.mark.parametrize("stage", STAGES)
def test_every_http_function_rolls_back_on_the_api_alarms(
    synthesized: Synthesized, stage: str
) -> None:
    template = synthesized.template_json(stage, "Api")
    functions = {
        fid: f["Properties"]["FunctionName"]
        for fid, f in resources(template, "AWS::Lambda::Function").items()
    }
    alarms = {
        aid: a["Properties"]["AlarmName"]
        for aid, a in resources(template, "AWS::CloudWatch::Alarm").items()
    }
    assert set(alarms.values()) == {
        f"cloudpacs-{stage}-api-5xx",
        f"cloudpacs-{stage}-api-latency-p99",
    }
    groups = {
        g["Properties"]["DeploymentGroupName"]: g["Properties"]
        for g in resources(template, "AWS::CodeDeploy::DeploymentGroup").values()
    }
    assert set(groups) == {f"cloudpacs-{stage}-{name}" for name in HTTP_FUNCTIONS}
    for group in groups.values():
        watched = {json.dumps(alarm["Name"]) for alarm in group["AlarmConfiguration"]["Alarms"]}
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert watched == {json.dumps({"Ref": aid}) for aid in alarms}
        assert set(group["AutoRollbackConfiguration"]["Events"]) == {
            "DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST",
        }  # fmt: skip
    expected = (
        "CodeDeployDefault.LambdaCanary10Percent15Minutes"
        if stage == "prod"
        else "CodeDeployDefault.LambdaAllAtOnce"
    )
    aliases = resources(template, "AWS::Lambda::Alias")
    assert {functions[a["Properties"]["FunctionName"]["Ref"]] for a in aliases.values()} == {
        f"cloudpacs-{stage}-{name}" for name in HTTP_FUNCTIONS
    }
    for alias in aliases.values():
        assert alias["Properties"]["Name"] == "live"
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update["DeploymentGroupName"]["Ref"] in resources(
            template, "AWS::CodeDeploy::DeploymentGroup"
        )
        group = template["Resources"][update["DeploymentGroupName"]["Ref"]]["Properties"]
        assert group["DeploymentConfigName"] == expected


@pytest.mark.parametrize("stage", STAGES)
def test_bridge_deployments_roll_back_on_the_circuit_breaker(
    synthesized: Synthesized, stage: str
) -> None:
    service = only(synthesized.template_json(stage, "Dimse"), "AWS::ECS::Service")
    breaker = service["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}


@pytest.mark.parametrize("stage", STAGES)
def test_deployed_version_is_an_output_and_reaches_health(
    synthesized: Synthesized, stage: str
) -> None:
    template = synthesized.template_json(stage, "Api")
    assert template["Outputs"]["DeployedVersion"]["Value"] == f"{__version__}+{COMMIT}"
    for function in resources(template, "AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["CLOUDPACS_COMMIT"] == COMMIT


@pytest.mark.parametrize("stage", STAGES)
def test_release_checks_client_and_its_secret(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Auth")
    (client,) = [
        c["Properties"]
        for cid, c in resources(template, "AWS::Cognito::UserPoolClient").items()
        if "ReleaseChecks" in cid
    ]
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["GenerateSecret"] is True
    scopes = sorted(
        json.dumps(s).rsplit("/", 1)[-1].strip("'\"]}") for s in client["AllowedOAuthScopes"]
    )
    assert scopes == ["delete", "read", "write"]
    secret = only(template, "AWS::SecretsManager::Secret")["Properties"]
    assert secret["Name"] == f"cloudpacs-{stage}-release-checks"
    text = json.dumps(secret["SecretString"])
    for field in ("client_id", "client_secret", "token_url", "scope"):
        assert field in text
