"""Monitoring stack: the alarm topic (encrypted, TLS only, e-mail to the stage's on-call
address), the dashboard and the alarms."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.api.stack import ApiStack
from stacks.monitoring.alarms import StageAlarms
from stacks.monitoring.dashboard import StageDashboard
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
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=f"cloudpacs-{stage}-alarms",
            master_key=storage.keys.log_key,
            enforce_ssl=True,
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        watched = Watched(
            api_stage=api.api.api.deployment_stage,
            functions=api.functions,
            table=storage.table,
            queue=storage.inbox.queue,
            dead_letter_queue=storage.inbox.dead_letter_queue,
        )
        self.dashboard = StageDashboard(self, "Dashboard", stage=stage, watched=watched).dashboard
        self.alarms = StageAlarms(self, "Alarms", stage=stage, topic=self.topic, watched=watched)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)
        CfnOutput(self, "AlarmTopicArn", value=self.topic.topic_arn)
