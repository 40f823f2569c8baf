"""Who is asked to approve a release to production, and how: the pipeline's notification rule
sends "manual approval needed" (and "pipeline failed") to an encrypted, TLS-only SNS topic that
mails the stage settings' ``approval_email``."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.kms_keys import rotating_key

NOTIFICATIONS = "codestar-notifications.amazonaws.com"


class ApprovalTopic(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, email: str) -> None:
        super().__init__(scope, construct_id)
        self.key = rotating_key(
            self,
            "Key",
            alias="cloudpacs/pipeline-notifications",
            description="cloudpacs pipeline: approval and failure notifications",
            removal_policy=RemovalPolicy.DESTROY,
        )
        # CodeStar Notifications publishes to the topic, so it must be able to use its key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(NOTIFICATIONS)],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name="cloudpacs-pipeline-approvals",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(email))

    def watch(self, pipeline: codepipeline.IPipeline) -> None:
        pipeline.notify_on(
            "ApprovalNeeded",
            self.topic,
            events=[
                codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
            ],
            notification_rule_name="cloudpacs-pipeline-approvals",
        )
