"""The anonymize function and its queue: de-identification into the research store.

``POST /dicom-web/studies/{study}/deidentify`` (the ``deidentify`` function) queues a job's
tasks here; when the stage de-identifies automatically (``auto_deidentify``), a rule on the
stage's event bus routes every ``InstanceStored`` event here too, whatever stored the instance
(STOW-RS, large uploads, the DIMSE bridge). The function takes one message per invocation and
answers with ``batchItemFailures``; a message that fails ``MAX_RECEIVE_COUNT`` times moves to
the dead-letter queue, never loops. The visibility timeout is six times the function's timeout,
as AWS advises for SQS event sources.

The queues have their own key, as the inbox's do: EventBridge must be allowed to use it for the
one rule that feeds the queue, and the condition naming that rule is built from its fixed name,
so key, queue and rule do not depend on each other in a cycle. The stack grants the function
its data access (stacks/api/stack.py); this construct wires only the queue to the function.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from cloudpacs.services.deid_model import AUTO_EVENT_PATTERN
from stacks.api.assets import LambdaAssets
from stacks.api.permissions import Grants
from stacks.api.service_function import ServiceFunction
from stacks.names import StageNames
from stacks.work_queue import MAX_RECEIVE_COUNT, work_queue

BATCH_SIZE = 1
"""A job's task holds up to 25 instances (``deid_jobs.CHUNK_SIZE``): one per invocation keeps
an invocation's work bounded; Lambda scales out over the queue."""


class Anonymizer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: StageNames,
        assets: LambdaAssets,
        layer: lambda_.ILayerVersion,
        architecture: str,
        memory_mb: int,
        timeout_seconds: int,
        environment: Mapping[str, str],
        event_bus: events.IEventBus,
        event_bus_name: str,
        auto_profile: str | None,
        log_key: kms.IKey,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
        tracing: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        stage = names.stage
        work = work_queue(
            self,
            purpose="anonymize",
            key_alias=f"alias/cloudpacs-{stage}-anonymize-queue",
            key_description=f"cloudpacs {stage}: de-identification task queues",
            function_timeout_seconds=timeout_seconds,
            removal_policy=removal_policy,
            queue_name=f"cloudpacs-{stage}-anonymize",
            dead_letter_queue_name=f"cloudpacs-{stage}-anonymize-dlq",
        )
        self.queue_key, self.queue = work.key, work.queue
        self.dead_letter_queue = work.dead_letter_queue
        settings = {
            **environment,
            "CLOUDPACS_DEID_MAX_RECEIVES": str(MAX_RECEIVE_COUNT),
            **({"CLOUDPACS_AUTO_DEIDENTIFY_PROFILE": auto_profile} if auto_profile else {}),
        }
        service = ServiceFunction(
            self,
            "Function",
            name="anonymize",
            names=names,
            description="De-identification into the research store (SQS)",
            assets=assets,
            layer=layer,
            architecture=architecture,
            memory_mb=memory_mb,
            timeout_seconds=timeout_seconds,
            environment=settings,
            log_key=log_key,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            tracing=tracing,
        )
        self.function: lambda_.Function = service.function
        self.grants: Grants = service.grants
        self.function.add_event_source(
            sources.SqsEventSource(
                self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True
            )
        )
        self.rule: events.Rule | None = None
        if auto_profile:
            self._route_stored_instances(stage, event_bus, event_bus_name)

    def _route_stored_instances(
        self, stage: str, event_bus: events.IEventBus, event_bus_name: str
    ) -> None:
        rule_name = f"cloudpacs-{stage}-auto-deidentify"
        self.rule = events.Rule(
            self,
            "AutoDeidentify",
            rule_name=rule_name,
            description="Every stored instance, to the anonymize queue (auto_deidentify)",
            event_bus=event_bus,
            event_pattern=events.EventPattern(
                source=list(AUTO_EVENT_PATTERN["source"]),
                detail_type=list(AUTO_EVENT_PATTERN["detail-type"]),
            ),
        )
        # The target is set on the rule directly: CDK's SqsQueue target would let every rule of
        # the account send to the queue and use its key; these grants name this one rule.
        rule = self.rule.node.default_child
        assert isinstance(rule, events.CfnRule)
        rule.targets = [
            events.CfnRule.TargetProperty(id="AnonymizeQueue", arn=self.queue.queue_arn)
        ]
        rule_arn = Stack.of(self).format_arn(
            service="events", resource="rule", resource_name=f"{event_bus_name}/{rule_name}"
        )
        from_this_rule = {"ArnEquals": {"aws:SourceArn": rule_arn}}
        events_service = iam.ServicePrincipal("events.amazonaws.com")
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="StageEventBusSends",
                principals=[events_service],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                conditions=from_this_rule,
            )
        )
        self.queue_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="StageEventBusEncrypts",
                principals=[events_service],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions=from_this_rule,
            )
        )
