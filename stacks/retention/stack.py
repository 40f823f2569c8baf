"""Retention stack: the ``retention`` function, its daily schedule, grants and alarms.

Made only for stages with ``retention_days`` set (docs/lifecycle.md). The function deletes the
studies into which nothing was stored for that many days and that are not on legal hold,
through the same delete service as a user's ``DELETE``, so its grants are the delete side of
the ``stow`` function's and nothing more:

| resource | actions |
| --- | --- |
| index | read; write (delete items, update study items) |
| objects ``studies/*``, ``responses/*`` | ``s3:DeleteObject``; ``s3:ListBucket`` on both |
| event bus | ``events:PutEvents`` (``InstanceDeleted``) |
| audit log group | append |
| data key | decrypt (index items) |

It publishes no new object and reads no object's bytes. The stack has its own copy of the
shared layer (same asset) rather than a reference to the API stack's: a layer version exported
across stacks cannot be replaced while another stack imports it.

| alarm | fires when | first thing to check |
| ----- | ---------- | -------------------- |
| retention-errors | the run fails | the function's log group |
| retention-failures | a study could not be deleted | the run's log, failed audit events |
| retention-dead-letters | a scheduled run was given up | the queue's message, the errors |
| retention-not-run | no run in 25 hours | the schedule rule, the function's throttles |
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.api import permissions as allow
from stacks.api.assets import LambdaAssets
from stacks.api.service_function import METRICS_NAMESPACE, ServiceFunction
from stacks.monitoring.alarms import add_alarm
from stacks.monitoring.bridge import alarm_topic
from stacks.names import StageNames

TIMEOUT_SECONDS = 900
"""Lambda's longest run; the job stops starting deletes a minute before (aws_lambda.retention)."""
RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = Duration.hours(6)
"""A run that could not start within six hours is given up (to the dead-letter queue): the
next day's run selects the same studies again."""
NOT_RUN_PERIOD = Duration.hours(25)

DELETE_REASON = (
    "The retention job deletes expired studies' objects under studies/ and their assembled "
    "responses under responses/ (the delete service); keys are made of validated UIDs."
)


class RetentionStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: StageNames,
        assets: LambdaAssets,
        architecture: str,
        memory_mb: int,
        retention_days: int,
        schedule_hour_utc: int,
        data_key: kms.IKey,
        log_key: kms.IKey,
        audit_log_name: str,
        event_bus_name: str,
        log_retention_days: int,
        retain_logs: bool,
        tracing: bool = True,
        commit: str = "unknown",
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        stage = names.stage
        removal = RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY
        layer = assets.core_layer(self, architecture)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=f"cloudpacs-{stage}-retention-dead-letters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal,
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue of the retention schedule; a DLQ of a DLQ adds nothing.",
        )
        event_bus_arn = self.format_arn(service="events", resource="event-bus",
                                        resource_name=event_bus_name)  # fmt: skip
        service = ServiceFunction(
            self,
            "Retention",
            name="retention",
            names=names,
            description=f"Retention: deletes studies {retention_days} days after their last store",
            assets=assets,
            layer=layer,
            architecture=architecture,
            memory_mb=memory_mb,
            timeout_seconds=TIMEOUT_SECONDS,
            environment={
                "CLOUDPACS_TABLE_NAME": names.table,
                "CLOUDPACS_BUCKET_NAME": names.dicom_bucket,
                "CLOUDPACS_AUDIT_LOG_GROUP": audit_log_name,
                "CLOUDPACS_EVENT_BUS_NAME": event_bus_name,
                "CLOUDPACS_RETENTION_DAYS": str(retention_days),
                "CLOUDPACS_COMMIT": commit,
            },
            log_key=log_key,
            log_retention_days=log_retention_days,
            removal_policy=removal,
            dead_letter_queue=self.dead_letter_queue,
            tracing=tracing,
        )
        self.function = service.function
        self.function.configure_async_invoke(
            retry_attempts=RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE
        )
        grants = service.grants
        objects = names.dicom_bucket
        grants.index_read()
        grants.index_write()
        grants.key_use(data_key, encrypt=False)
        grants.append_logs(audit_log_name, "Streams of the audit log group; append only.")
        grants.publish_events(event_bus_arn)
        grants.objects(objects, ["s3:DeleteObject"], allow.STUDIES, DELETE_REASON)
        grants.objects(objects, ["s3:DeleteObject"], allow.RESPONSES, DELETE_REASON)
        grants.list_prefix(objects, allow.STUDIES)
        grants.list_prefix(objects, allow.RESPONSES)

        self.schedule = events.Rule(
            self,
            "Daily",
            rule_name=f"cloudpacs-{stage}-retention-daily",
            description=f"Runs the retention job every day at {schedule_hour_utc:02d}:00 UTC",
            schedule=events.Schedule.cron(minute="0", hour=str(schedule_hour_utc)),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    retry_attempts=RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                    dead_letter_queue=self.dead_letter_queue,
                )
            ],
        )
        self.alarms = self._alarms(stage)

    def _alarms(self, stage: str) -> list[cw.Alarm]:
        action = actions.SnsAction(alarm_topic(self, "AlarmTopic", stage=stage))
        fn, day = self.function, Duration.hours(1)
        failures = cw.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name="RetentionFailures",
            dimensions_map={"service": "retention"},
            period=day,
            statistic="Sum",
        )
        specs: list[tuple[str, cw.Metric, str, cw.ComparisonOperator, cw.TreatMissingData]] = [
            ("retention-errors", fn.metric_errors(period=day, statistic="Sum"),
             "The retention run failed.", _AT_LEAST, _NOT_BREACHING),
            ("retention-failures", failures,
             "The retention run could not delete a study.", _AT_LEAST, _NOT_BREACHING),
            ("retention-dead-letters",
             self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                 period=day, statistic="Maximum"),
             "A scheduled retention run was given up.", _AT_LEAST, _NOT_BREACHING),
            ("retention-not-run", fn.metric_invocations(period=NOT_RUN_PERIOD, statistic="Sum"),
             "The retention job did not run in the last 25 hours.",
             cw.ComparisonOperator.LESS_THAN_THRESHOLD, cw.TreatMissingData.BREACHING),
        ]  # fmt: skip
        return [
            add_alarm(
                self,
                stage=stage,
                name=name,
                metric=metric,
                action=action,
                threshold=1,
                description=description,
                comparison=comparison,
                treat_missing_data=missing,
            )
            for name, metric, description, comparison, missing in specs
        ]


_AT_LEAST = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
_NOT_BREACHING = cw.TreatMissingData.NOT_BREACHING
