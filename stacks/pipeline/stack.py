"""The delivery pipeline (CDK Pipelines): every commit on the configured branch goes through

Source → Synth (static analysis, tests, ``make synth``) → UpdatePipeline (self-mutation) →
Assets (the Lambda code and the bridge image published) → ImageScan (the bridge image's scan
findings judged) → staging (deploy, smoke test, load test, cleanup) → prod (manual approval
first, deploy with automatic rollback, smoke test) → Docs (OpenAPI document and the other
release documents as an artifact).

It is deployed once by hand (``cdk deploy cloudpacs-pipeline``, docs/deploy.md "Pipeline");
after that it updates itself from the repository before it deploys anything else. The source
comes through a CodeStar / CodeConnections connection; the stages are the very ``Stage``
objects of the app (`cdk_app.stage.CloudPacsStage`), so the pipeline deploys what
``make synth`` checks.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_app.pipeline_settings import PipelineSettings
from cdk_app.stage import CloudPacsStage
from cdk_app.toolchain import CDK_CLI_VERSION
from stacks.kms_keys import rotating_key
from stacks.pipeline import steps
from stacks.pipeline.approvals import ApprovalTopic
from stacks.pipeline.nag import acknowledge_pipeline
from stacks.storage.buckets import AccessLogBucket, secure_bucket_props

ARTIFACT_EXPIRY_DAYS = 90


class PipelineStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PipelineSettings,
        staging: CloudPacsStage,
        production: CloudPacsStage,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        access_logs = AccessLogBucket(
            self, "AccessLogs", expiry_days=365, removal_policy=RemovalPolicy.RETAIN
        ).bucket
        artifacts = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=rotating_key(
                self,
                "ArtifactKey",
                alias="cloudpacs/pipeline-artifacts",
                description="cloudpacs pipeline: source, cloud assembly and release documents",
                removal_policy=RemovalPolicy.RETAIN,
            ),
            bucket_key_enabled=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=[
                s3.LifecycleRule(noncurrent_version_expiration=Duration.days(ARTIFACT_EXPIRY_DAYS))
            ],
            **secure_bucket_props(RemovalPolicy.RETAIN),  # type: ignore[arg-type]
        )
        source = pipelines.CodePipelineSource.connection(
            settings.repository,
            settings.branch,
            connection_arn=settings.connection_arn,
            trigger_on_push=True,
        )
        synth = steps.synth_step(source)
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="cloudpacs",
            synth=synth,
            self_mutation=True,
            cli_version=CDK_CLI_VERSION,
            artifact_bucket=artifacts,
            publish_assets_in_parallel=False,
            docker_enabled_for_synth=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=steps.BUILD_IMAGE)
            ),
        )
        assembly = synth.primary_output
        assert assembly is not None
        self.pipeline.add_wave(
            "ImageScan",
            post=[
                steps.image_scan_step(
                    source,
                    assembly,
                    stages=[staging, production],
                    fail_at=settings.image_scan_fail_at,
                )
            ],
        )
        self.pipeline.add_stage(
            staging,
            post=steps.in_order(
                steps.smoke_step(source, staging),
                steps.load_step(source, staging, settings.load_test),
                steps.cleanup_step(source, staging),
            ),
        )
        self.pipeline.add_stage(
            production,
            pre=[
                pipelines.ManualApprovalStep(
                    "ApproveRelease",
                    comment=(
                        f"{staging.stage_name} passed its smoke and load tests; approve to "
                        f"deploy this commit to {production.stage_name}."
                    ),
                )
            ],
            post=[steps.smoke_step(source, production)],
        )
        self.pipeline.add_wave("Docs", post=[steps.docs_step(source)])
        self.pipeline.build_pipeline()
        self.approvals = ApprovalTopic(self, "Approvals", email=settings.approval_email)
        self.approvals.watch(self.pipeline.pipeline)
        acknowledge_pipeline(self.pipeline, artifacts)
