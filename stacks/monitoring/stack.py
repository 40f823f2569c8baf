"""Monitoring stack: the alarm topic (encrypted, TLS only, e-mail to the stage's on-call
address), the dashboard and the alarms. The DIMSE bridge's alarms are in its own stack
(`stacks.monitoring.bridge` says why) and notify the same topic."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.api.stack import ApiStack
from stacks.monitoring.alarms import StageAlarms
from stacks.monitoring.bridge import WatchedBridge, alarm_topic_name
from stacks.monitoring.dashboard import StageDashboard
from stacks.monitoring.deid import DeidAlarms, WatchedDeid
from stacks.monitoring.metrics import Watched
from stacks.storage.stack import StorageStack


class MonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        alarm_email: str,
        storage: StorageStack,
        api: ApiStack,
        bridge: WatchedBridge | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=alarm_topic_name(stage),
            master_key=storage.keys.log_key,
            enforce_ssl=True,
        )
        # enforce_ssl gives the topic a policy, which replaces SNS's default one: without this
        # statement no CloudWatch alarm could publish (the bridge's alarms in their own stack
        # included); only this stage's alarms in this account may.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="StageAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": self.account},
                    "ArnLike": {
                        "aws:SourceArn": self.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"cloudpacs-{stage}-*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        watched = Watched(
            api_stage=api.api.api.deployment_stage,
            functions=api.functions,
            table=storage.table,
            queue=storage.inbox.queue,
            dead_letter_queue=storage.inbox.dead_letter_queue,
        )
        deid = WatchedDeid(api.anonymizer.queue, api.anonymizer.dead_letter_queue)
        self.dashboard = StageDashboard(
            self, "Dashboard", stage=stage, watched=watched, bridge=bridge, deid=deid
        ).dashboard
        self.alarms = StageAlarms(self, "Alarms", stage=stage, topic=self.topic, watched=watched)
        self.deid_alarms = DeidAlarms(
            self, "DeidAlarms", stage=stage, topic=self.topic, watched=deid
        )
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)
        CfnOutput(self, "AlarmTopicArn", value=self.topic.topic_arn)
