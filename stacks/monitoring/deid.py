"""De-identification (docs/deidentification.md) on the stage dashboard, and its alarms.

| alarm | fires when | first thing to check |
| ----- | ---------- | -------------------- |
| anonymize-dead-letters | any message in the anonymize DLQ | the anonymize function's logs |
| anonymize-backlog | oldest task waits ≥ 30 min, twice | anonymize errors, throttles |

The anonymize function's errors and throttles are alarmed with the other functions'
(``stacks.monitoring.alarms``). Instances quarantined or not de-identifiable are not failures of
the service: jobs report them, and the dashboard counts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.monitoring.alarms import add_alarm
from stacks.monitoring.metrics import PERIOD, emf

BACKLOG_SECONDS = 1800


@dataclass(frozen=True)
class WatchedDeid:
    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue


def deid_widgets(watched: WatchedDeid, *, width: int) -> list[cw.IWidget]:
    queue, dead = watched.queue, watched.dead_letter_queue
    return [
        cw.GraphWidget(
            title="De-identification queue",
            left=[
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, label="waiting"),
                dead.metric_approximate_number_of_messages_visible(
                    period=PERIOD, label="dead letters"
                ),
            ],
            right=[queue.metric_approximate_age_of_oldest_message(period=PERIOD, label="age")],
            width=width,
            height=6,
        ),
        cw.GraphWidget(
            title="Instances de-identified / quarantined / failed",
            left=[
                emf("InstancesDeidentified", "de-identified"),
                emf("InstancesQuarantined", "quarantined"),
                emf("DeidentificationFailures", "failed"),
            ],
            width=width,
            height=6,
        ),
    ]


class DeidAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        topic: sns.ITopic,
        watched: WatchedDeid,
    ) -> None:
        super().__init__(scope, construct_id)
        action = actions.SnsAction(topic)
        self.alarms = [
            add_alarm(
                self,
                stage=stage,
                name="anonymize-dead-letters",
                metric=watched.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                action=action,
                threshold=1,
                description="A de-identification task failed on every delivery and waits in "
                "the dead-letter queue.",
            ),
            add_alarm(
                self,
                stage=stage,
                name="anonymize-backlog",
                metric=watched.queue.metric_approximate_age_of_oldest_message(
                    period=PERIOD, statistic="Maximum"
                ),
                action=action,
                threshold=BACKLOG_SECONDS,
                evaluation_periods=2,
                description="De-identification tasks wait 30 minutes or more.",
            ),
        ]
