"""The pipeline's steps, each a CodeBuild project running the project's own commands.

| step | runs | fails when |
| --- | --- | --- |
| Synth | ``make lint typecheck security``, five suites, ``make synth`` | a finding or test |
| ScanBridgeImage | ``python -m stacks.pipeline.image_scan`` | ≥ ``image_scan_fail_at`` |
| SmokeTest | ``cloudpacs smoke $DICOMWEB_URL`` | any step of the smoke test |
| LoadTest | ``cloudpacs load $DICOMWEB_URL ...`` | error rate or p95 over the limits |
| CleanUp | ``cloudpacs cleanup-checks $DICOMWEB_URL`` | a leftover study cannot be deleted |
| ReleaseDocuments | ``make docs`` (artifact: ``build/docs``) | a document cannot be generated |

Check steps get the release-checks client's credentials as a CodeBuild environment variable
read from Secrets Manager (`stacks.auth.release_checks`) and the stage's DICOMweb root from the
API stack's output; their roles may read that one secret and nothing else of the stage.
"""

from __future__ import annotations

import itertools
import shlex

from aws_cdk import Duration, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from cdk_app.pipeline_settings import LoadTestLimits
from cdk_app.stage import CloudPacsStage
from cloudpacs.release_checks.credentials import CREDENTIALS_ENV
from stacks.auth.release_checks import release_checks_secret_name

BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
PYTHON = "3.11"
INSTALL_CHECKS = "python -m pip install --quiet '.[checks]'"
BOOTSTRAP_QUALIFIER = "hnb659fds"
"""The CDK bootstrap's default qualifier: names the container assets repository."""


def _python_runtime() -> codebuild.BuildSpec:
    return codebuild.BuildSpec.from_object(
        {"phases": {"install": {"runtime-versions": {"python": PYTHON}}}}
    )


def synth_step(source: pipelines.IFileSetProducer) -> pipelines.CodeBuildStep:
    """Install, static analysis, every test suite, then the cloud assembly (``cdk.out``)."""
    return pipelines.CodeBuildStep(
        "Synth",
        input=source,
        install_commands=[
            "apt-get update -qq",
            "apt-get install -y -qq --no-install-recommends dcmtk",  # as .ci/run
            "make venv",
        ],
        commands=[
            "make lint typecheck security",
            "make test-unit test-contract test-api test-dimse test-infra",
            "make synth",
        ],
        primary_output_directory="cdk.out",
        partial_build_spec=_python_runtime(),
        build_environment=codebuild.BuildEnvironment(
            build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.LARGE
        ),
        timeout=Duration.minutes(60),
    )


def image_scan_step(
    source: pipelines.IFileSetProducer,
    assembly: pipelines.FileSet,
    *,
    stages: list[CloudPacsStage],
    fail_at: str,
) -> pipelines.CodeBuildStep:
    """Wait for the ECR scan of each published image of ``stages`` and judge its findings."""
    stage_args = " ".join(f"--stage {shlex.quote(stage.stage_name)}" for stage in stages)
    repositories = sorted(
        {
            Stack.of(stage.dimse).format_arn(
                service="ecr",
                region=stage.region,
                account=stage.account,
                resource="repository",
                resource_name=(
                    f"cdk-{BOOTSTRAP_QUALIFIER}-container-assets-{stage.account}-{stage.region}"
                ),
            )
            for stage in stages
        }
    )
    return pipelines.CodeBuildStep(
        "ScanBridgeImage",
        input=source,
        additional_inputs={"cdk.out": assembly},
        install_commands=["python -m pip install --quiet ."],
        commands=[f"python -m stacks.pipeline.image_scan cdk.out {stage_args} --fail-at {fail_at}"],
        partial_build_spec=_python_runtime(),
        build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
        role_policy_statements=[
            iam.PolicyStatement(
                actions=["ecr:DescribeImageScanFindings", "ecr:StartImageScan"],
                resources=repositories,
            )
        ],
        timeout=Duration.minutes(20),
    )


def _check_step(
    step_id: str, source: pipelines.IFileSetProducer, stage: CloudPacsStage, command: str
) -> pipelines.CodeBuildStep:
    return pipelines.CodeBuildStep(
        step_id,
        input=source,
        install_commands=[INSTALL_CHECKS],
        commands=[command],
        env_from_cfn_outputs={"DICOMWEB_URL": stage.api.url_output},
        partial_build_spec=_python_runtime(),
        build_environment=codebuild.BuildEnvironment(
            build_image=BUILD_IMAGE,
            environment_variables={
                CREDENTIALS_ENV: codebuild.BuildEnvironmentVariable(
                    type=codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER,
                    value=release_checks_secret_name(stage.stage_name),
                )
            },
        ),
        timeout=Duration.minutes(30),
    )


def smoke_step(
    source: pipelines.IFileSetProducer, stage: CloudPacsStage
) -> pipelines.CodeBuildStep:
    return _check_step(
        f"SmokeTest-{stage.stage_name}", source, stage, 'cloudpacs smoke "$DICOMWEB_URL"'
    )


def load_step(
    source: pipelines.IFileSetProducer, stage: CloudPacsStage, limits: LoadTestLimits
) -> pipelines.CodeBuildStep:
    command = (
        f'cloudpacs load "$DICOMWEB_URL" --users {limits.users} '
        f"--duration {limits.duration_seconds} --max-error-rate {limits.max_error_rate} "
        f"--max-p95-ms {limits.max_p95_ms}"
    )
    return _check_step(f"LoadTest-{stage.stage_name}", source, stage, command)


def cleanup_step(
    source: pipelines.IFileSetProducer, stage: CloudPacsStage
) -> pipelines.CodeBuildStep:
    return _check_step(
        f"CleanUp-{stage.stage_name}", source, stage, 'cloudpacs cleanup-checks "$DICOMWEB_URL"'
    )


def in_order(*steps: pipelines.Step) -> list[pipelines.Step]:
    """``steps``, each made to wait for the one before it."""
    for before, after in itertools.pairwise(steps):
        after.add_step_dependency(before)
    return list(steps)


def docs_step(source: pipelines.IFileSetProducer) -> pipelines.CodeBuildStep:
    """The release's documents (``make docs`` → ``build/docs``), kept as a pipeline artifact."""
    return pipelines.CodeBuildStep(
        "ReleaseDocuments",
        input=source,
        install_commands=["make venv"],
        commands=["make docs"],
        primary_output_directory="build/docs",
        partial_build_spec=_python_runtime(),
        build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
        timeout=Duration.minutes(30),
    )
