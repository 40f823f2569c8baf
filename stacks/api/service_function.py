"""One Lambda function of cloudpacs: thin handler over the shared layer, traced, logged as JSON
to its own encrypted log group, configured through ``CLOUDPACS_*`` environment variables."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.api.assets import ARCHITECTURES, RUNTIME, LambdaAssets
from stacks.api.permissions import Grants
from stacks.log_retention import retention
from stacks.names import StageNames

METRICS_NAMESPACE = "cloudpacs"


class ServiceFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        names: StageNames,
        description: str,
        assets: LambdaAssets,
        layer: lambda_.ILayerVersion,
        architecture: str,
        memory_mb: int,
        timeout_seconds: int,
        environment: Mapping[str, str],
        log_key: kms.IKey,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
        ephemeral_storage_mb: int = 512,
        dead_letter_queue: sqs.IQueue | None = None,
        tracing: bool = True,
    ) -> None:
        """``dead_letter_queue``: where Lambda puts the events of asynchronous invocations
        that failed every attempt (scheduled functions); ``tracing``: X-Ray active tracing
        (off: Powertools' Tracer is told so and the function never loads the X-Ray SDK)."""
        super().__init__(scope, construct_id)
        log_group_name = f"/cloudpacs/{names.stage}/functions/{name}"
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name,
            encryption_key=log_key,
            retention=retention(log_retention_days),
            removal_policy=removal_policy,
        )
        # Its own role, without AWS's basic execution policy (logs:* on every group): the function
        # may append to its own log group and nothing else until the stack grants more.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"cloudpacs {names.stage} {name} function",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=f"cloudpacs-{names.stage}-{name}",
            role=self.role,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURES[architecture],
            handler="handler.handler",
            code=assets.function_code(name),
            layers=[layer],
            memory_size=memory_mb,
            timeout=Duration.seconds(timeout_seconds),
            ephemeral_storage_size=Size.mebibytes(ephemeral_storage_mb),
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=self.log_group,
            dead_letter_queue=dead_letter_queue,
            environment={
                "CLOUDPACS_BACKEND": "aws",
                "POWERTOOLS_SERVICE_NAME": name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                **({} if tracing else {"POWERTOOLS_TRACE_DISABLED": "true"}),
                **environment,
            },
        )
        self.grants = Grants(self.function, names)
        self.grants.append_logs(
            log_group_name, "The function's own log group: one stream per execution environment."
        )
        if tracing:
            acknowledge(
                self.role,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support "
                "no resource-level permissions.",
            )
        acknowledge(
            self.role,
            "HIPAA.Security-IAMNoInlinePolicy",
            "The role's policy belongs to this one function and is generated from the grants in "
            "stacks/api/stack.py; nothing else can attach it, and no user or group has one.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"The runtime is pinned to Python {RUNTIME.name.removeprefix('python')}, the version "
            "the shared layer's compiled wheels are built and tested for; runtime and layer are "
            "upgraded together.",
        )
        for rule, reason in _HIPAA_LAMBDA_REASONS.items():
            if not (dead_letter_queue and rule == "HIPAA.Security-LambdaDLQ"):
                acknowledge(self.function, rule, reason)


_HIPAA_LAMBDA_REASONS = {
    "HIPAA.Security-LambdaInsideVPC": (
        "The functions reach only AWS service APIs (S3, DynamoDB, SQS, CloudWatch) over TLS "
        "with IAM-signed requests; they serve no VPC resource, and a VPC would add NAT or "
        "endpoint cost and cold-start time without narrowing access."
    ),
    "HIPAA.Security-LambdaConcurrency": (
        "Concurrency is bounded at the edge by API Gateway throttling and the WAF rate rule "
        "(stage settings); reserved concurrency would carve capacity out of the account and "
        "fail deployment in accounts with low default limits."
    ),
    "HIPAA.Security-LambdaDLQ": (
        "Only the scheduled retention function is invoked asynchronously, and it has a "
        "dead-letter queue: API functions answer synchronously and the ingest and anonymize "
        "functions are fed by SQS, whose own dead-letter queues hold failed messages."
    ),
}
