"""Alarms on what an on-call engineer acts on, all to the stage's SNS topic.

| alarm | fires when | first thing to check |
| ----- | ---------- | -------------------- |
| <fn>-errors | ≥ 5 errors in 5 min | the function's log group |
| <fn>-throttles | any throttle | account concurrency |
| ingest-dead-letters | any message in the DLQ | inbox object, ingest logs |
| ingest-backlog | oldest message ≥ 15 min | ingest errors, concurrency |
| index-throttles | any read or write throttle | hot partition, account limits |

The DIMSE bridge's alarms (`stacks.monitoring.bridge`) live in the bridge's stack, the API's
5xx and latency alarms (`stacks.monitoring.api_alarms`) in the API stack; both notify the same
topic.
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.monitoring.metrics import PERIOD, Watched, total

BACKLOG_SECONDS = 900


class StageAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        topic: sns.ITopic,
        watched: Watched,
    ) -> None:
        super().__init__(scope, construct_id)
        functions, table = watched.functions, watched.table
        queue, dead_letter_queue = watched.queue, watched.dead_letter_queue
        self._stage = stage
        self._action = actions.SnsAction(topic)
        self.alarms: list[cw.Alarm] = []
        for name, fn in functions.items():
            self._add(
                f"{name}-errors",
                fn.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=5,
                description=f"The {name} function fails.",
            )
            self._add(
                f"{name}-throttles",
                fn.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"The {name} function is throttled.",
            )
        self._add(
            "ingest-dead-letters",
            dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"
            ),
            threshold=1,
            description="An upload could not be ingested and waits in the dead-letter queue.",
        )
        self._add(
            "ingest-backlog",
            queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
            threshold=BACKLOG_SECONDS,
            evaluation_periods=2,
            description="Uploads wait 15 minutes or more to be ingested.",
        )
        self._add(
            "index-throttles",
            total(
                "index throttles",
                table.metric("ReadThrottleEvents", statistic="Sum", period=PERIOD),
                table.metric("WriteThrottleEvents", statistic="Sum", period=PERIOD),
            ),
            threshold=1,
            description="DynamoDB throttles reads or writes of the index.",
        )

    def _add(
        self,
        name: str,
        metric: cw.Metric | cw.MathExpression,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
    ) -> None:
        self.alarms.append(
            add_alarm(
                self,
                stage=self._stage,
                name=name,
                metric=metric,
                action=self._action,
                threshold=threshold,
                description=description,
                evaluation_periods=evaluation_periods,
            )
        )


def add_alarm(
    scope: Construct,
    *,
    stage: str,
    name: str,
    metric: cw.Metric | cw.MathExpression,
    action: cw.IAlarmAction,
    threshold: float,
    description: str,
    evaluation_periods: int = 1,
    comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treat_missing_data: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
) -> cw.Alarm:
    """One alarm named ``cloudpacs-<stage>-<name>`` that notifies ``action`` on alarm and on OK."""
    alarm = metric.create_alarm(
        scope,
        name,
        alarm_name=f"cloudpacs-{stage}-{name}",
        alarm_description=description,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
        comparison_operator=comparison,
        treat_missing_data=treat_missing_data,
    )
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
    return alarm
