"""The DIMSE bridge on the stage dashboard, and its alarms.

| alarm | fires when | first thing to check |
| ----- | ---------- | -------------------- |
| dimse-no-healthy-targets | no task passes the health check | service events, task logs |
| dimse-unhealthy-targets | a target fails it for 15 min | the task's logs |
| dimse-cpu | tasks average ≥ 85 % CPU for 15 min | at dimse_max_tasks? |
| dimse-memory | tasks average ≥ 85 % memory for 15 min | large transfers, dimse_memory |
| dimse-resets | ≥ 20 resets by bridge or LB in 5 min, twice | task restarts, idle timeouts |

The dashboard is in the monitoring stack, which depends on the bridge's stack for these
metrics; so the alarms are created in the bridge's stack and find the stage's alarm topic by
its name (`alarm_topic_name`) rather than by a reference, which would make the two stacks
depend on each other. CloudWatch accepts an action whose topic does not exist yet, so the first
deployment of a stage works in stack order.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.monitoring.alarms import add_alarm
from stacks.monitoring.metrics import PERIOD, total

HIGH_UTILIZATION_PERCENT = 85
RESETS = 20


def alarm_topic_name(stage: str) -> str:
    return f"cloudpacs-{stage}-alarms"


def alarm_topic(scope: Construct, construct_id: str, *, stage: str) -> sns.ITopic:
    """The stage's alarm topic (made by the monitoring stack), found by its name."""
    arn = Stack.of(scope).format_arn(service="sns", resource=alarm_topic_name(stage))
    return sns.Topic.from_topic_arn(scope, construct_id, arn)


@dataclass(frozen=True)
class WatchedBridge:
    """The bridge's service, load balancer and target group: the metrics the dashboard shows
    and the alarms watch."""

    service: ecs.FargateService
    load_balancer: elbv2.NetworkLoadBalancer
    target_group: elbv2.NetworkTargetGroup

    def cpu(self) -> cw.Metric:
        return self.service.metric_cpu_utilization(period=PERIOD, statistic="Average", label="CPU")

    def memory(self) -> cw.Metric:
        return self.service.metric_memory_utilization(
            period=PERIOD, statistic="Average", label="memory"
        )

    def healthy(self) -> cw.Metric:
        return self.target_group.metrics.healthy_host_count(
            period=PERIOD, statistic="Minimum", label="healthy"
        )

    def unhealthy(self) -> cw.Metric:
        return self.target_group.metrics.un_healthy_host_count(
            period=PERIOD, statistic="Maximum", label="unhealthy"
        )

    def resets(self) -> list[cw.Metric]:
        """Resets sent by clients, by the load balancer and by the bridge."""
        metrics = self.load_balancer.metrics
        return [
            metrics.tcp_client_reset_count(period=PERIOD, statistic="Sum", label="by clients"),
            metrics.tcp_elb_reset_count(period=PERIOD, statistic="Sum", label="by load balancer"),
            metrics.tcp_target_reset_count(period=PERIOD, statistic="Sum", label="by bridge"),
        ]

    def connections(self) -> cw.Metric:
        return self.load_balancer.metrics.active_flow_count(
            period=PERIOD, statistic="Average", label="open connections"
        )


def bridge_widgets(bridge: WatchedBridge, *, width: int) -> list[cw.IWidget]:
    def graph(
        title: str, left: list[cw.IMetric], right: list[cw.IMetric] | None = None
    ) -> cw.GraphWidget:
        return cw.GraphWidget(title=title, left=left, right=right, width=width, height=6)

    return [
        graph("DIMSE tasks CPU / memory (%)", [bridge.cpu(), bridge.memory()]),
        graph(
            "DIMSE targets", [bridge.healthy(), bridge.unhealthy()], right=[bridge.connections()]
        ),
        graph("DIMSE TCP resets", list(bridge.resets())),
    ]


class BridgeAlarms(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, bridge: WatchedBridge
    ) -> None:
        super().__init__(scope, construct_id)
        action = actions.SnsAction(alarm_topic(self, "Topic", stage=stage))
        self.alarms = [
            add_alarm(
                self,
                stage=stage,
                name="dimse-no-healthy-targets",
                metric=bridge.healthy(),
                action=action,
                threshold=1,
                comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.BREACHING,
                description="No DIMSE bridge task passes the health check: modalities cannot "
                "store, find or retrieve.",
            ),
            add_alarm(
                self,
                stage=stage,
                name="dimse-unhealthy-targets",
                metric=bridge.unhealthy(),
                action=action,
                threshold=1,
                evaluation_periods=3,
                description="A DIMSE bridge task has failed its health check for 15 minutes.",
            ),
            add_alarm(
                self,
                stage=stage,
                name="dimse-cpu",
                metric=bridge.cpu(),
                action=action,
                threshold=HIGH_UTILIZATION_PERCENT,
                evaluation_periods=3,
                description="DIMSE bridge tasks use 85% of their CPU or more for 15 minutes.",
            ),
            add_alarm(
                self,
                stage=stage,
                name="dimse-memory",
                metric=bridge.memory(),
                action=action,
                threshold=HIGH_UTILIZATION_PERCENT,
                evaluation_periods=3,
                description="DIMSE bridge tasks use 85% of their memory or more for 15 minutes.",
            ),
            add_alarm(
                self,
                stage=stage,
                name="dimse-resets",
                metric=total("resets by load balancer and bridge", *bridge.resets()[1:]),
                action=action,
                threshold=RESETS,
                evaluation_periods=2,
                description="The bridge or the load balancer resets DIMSE connections.",
            ),
        ]
