"""Daily AWS Backup snapshots of the index (and of the research copy's index), in a vault
encrypted with the data key.

Point-in-time recovery covers mistakes of the last days; the backup plan keeps daily copies for
the stage's backup retention, independent of the table's own lifecycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.acknowledge import acknowledge


class IndexBackup(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        also: Sequence[dynamodb.ITable] = (),
        key: kms.IKey,
        retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vault = backup.BackupVault(
            self, "Vault", encryption_key=key, removal_policy=removal_policy
        )
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="Daily",
                    schedule_expression=events.Schedule.cron(hour="3", minute="0"),
                    delete_after=Duration.days(retention_days),
                )
            ],
        )
        selection = self.plan.add_selection(
            "Index",
            resources=[backup.BackupResource.from_dynamo_db_table(t) for t in (table, *also)],
        )
        acknowledge(
            selection,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's own service-role policy, maintained by AWS for exactly this use.",
        )
