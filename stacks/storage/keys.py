"""Customer-managed KMS keys of one stage, rotated yearly.

Two keys keep readers apart: the data key encrypts what holds patient data (objects, index,
inbox, backups); the log key encrypts CloudWatch log groups and the alarm topic, so that
reading logs never implies being able to decrypt images. The key policies let only the AWS
services that must encrypt on our behalf use them, scoped to this account.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.kms_keys import rotating_key

_SERVICE_KEY_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
]


class StageKeys(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.data_key = rotating_key(
            self,
            "DataKey",
            alias=f"alias/cloudpacs-{stage}-data",
            description=f"cloudpacs {stage}: DICOM objects, index, inbox, queues, backups",
            removal_policy=removal_policy,
        )
        self.log_key = rotating_key(
            self,
            "LogKey",
            alias=f"alias/cloudpacs-{stage}-logs",
            description=f"cloudpacs {stage}: CloudWatch log groups and the alarm topic",
            removal_policy=removal_policy,
        )
        self.log_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=_SERVICE_KEY_ACTIONS,
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        # CloudWatch alarms publish to the encrypted SNS topic.
        self.log_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsToEncryptedTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
