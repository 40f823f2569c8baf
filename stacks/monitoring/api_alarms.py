"""The API's 5xx and latency alarms. They are created in the API stack, not the monitoring
stack: the CodeDeploy deployment groups that shift the functions' aliases roll back on them
(`stacks.api.releases`), and a deployment group can only name alarms its own stack can reach
without the monitoring stack (which depends on the API stack) becoming a dependency of it.
Like the bridge's alarms they find the stage's alarm topic by its name.

| alarm | fires when | first thing to check |
| ----- | ---------- | -------------------- |
| api-5xx | ≥ 5 server errors in 5 min, twice | function errors, recent deploy |
| api-latency-p99 | p99 ≥ 10 s for 15 min | function duration, index throttles |
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from constructs import Construct

from stacks.monitoring.alarms import add_alarm
from stacks.monitoring.bridge import alarm_topic
from stacks.monitoring.metrics import PERIOD

LATENCY_EVALUATION_PERIODS = 3
"""The latency alarm needs 15 minutes of slow requests: the longest window of the two."""


class ApiAlarms(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, api_stage: apigw.Stage
    ) -> None:
        super().__init__(scope, construct_id)
        action = actions.SnsAction(alarm_topic(self, "AlarmTopic", stage=stage))
        self.server_errors = add_alarm(
            self,
            stage=stage,
            name="api-5xx",
            metric=api_stage.metric_server_error(period=PERIOD, statistic="Sum"),
            action=action,
            threshold=5,
            evaluation_periods=2,
            description="The API answers with server errors.",
        )
        self.latency = add_alarm(
            self,
            stage=stage,
            name="api-latency-p99",
            metric=api_stage.metric_latency(period=PERIOD, statistic="p99"),
            action=action,
            threshold=10_000,
            evaluation_periods=LATENCY_EVALUATION_PERIODS,
            description="The slowest 1% of API requests take 10 s or more.",
        )

    @property
    def alarms(self) -> list[cw.IAlarm]:
        return [self.server_errors, self.latency]
