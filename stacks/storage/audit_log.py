"""The audit trail's own CloudWatch log group: long retention, the log key, and no
reader or writer but those granted explicitly (the runtime roles may only append)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.log_retention import retention


class AuditLog(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group_name: str,
        key: kms.IKey,
        retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=log_group_name,
            encryption_key=key,
            retention=retention(retention_days),
            removal_policy=removal_policy,
        )
