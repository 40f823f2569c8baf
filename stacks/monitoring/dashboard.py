"""The stage dashboard: API traffic and latency, each function, the index, the ingest queue,
the application's own metrics, de-identification and, when the stage runs one, the DIMSE
bridge."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from stacks.monitoring.bridge import WatchedBridge, bridge_widgets
from stacks.monitoring.deid import WatchedDeid, deid_widgets
from stacks.monitoring.metrics import PERIOD, Watched, emf

WIDTH = 8


def _graph(
    title: str, left: Sequence[cw.IMetric], right: Sequence[cw.IMetric] | None = None
) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=left, right=right, width=WIDTH, height=6)


class StageDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        watched: Watched,
        bridge: WatchedBridge | None = None,
        deid: WatchedDeid | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        api_stage, functions, table = watched.api_stage, watched.functions, watched.table
        queue, dead_letter_queue = watched.queue, watched.dead_letter_queue
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"cloudpacs-{stage}")
        latency = [
            api_stage.metric_latency(statistic=stat, period=PERIOD, label=stat)
            for stat in ("p50", "p90", "p99")
        ]
        self.dashboard.add_widgets(
            _graph("API requests", [api_stage.metric_count(period=PERIOD, label="requests")]),
            _graph("API latency", latency),
            _graph(
                "API errors",
                [
                    api_stage.metric_client_error(period=PERIOD, label="4xx"),
                    api_stage.metric_server_error(period=PERIOD, label="5xx"),
                ],
            ),
        )

        def per_function(metric: str, statistic: str) -> list[cw.Metric]:
            return [
                fn.metric(metric, statistic=statistic, period=PERIOD, label=name)
                for name, fn in functions.items()
            ]

        self.dashboard.add_widgets(
            _graph("Function duration p99 (ms)", per_function("Duration", "p99")),
            _graph("Function errors", per_function("Errors", "Sum")),
            _graph("Function throttles", per_function("Throttles", "Sum")),
            _graph("Function concurrency", per_function("ConcurrentExecutions", "Maximum")),
            _graph(
                "Index throttles",
                [
                    table.metric("ReadThrottleEvents", statistic="Sum", period=PERIOD),
                    table.metric("WriteThrottleEvents", statistic="Sum", period=PERIOD),
                ],
            ),
            _graph(
                "Ingest queue",
                [
                    queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, label="waiting"
                    ),
                    dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, label="dead letters"
                    ),
                ],
                right=[queue.metric_approximate_age_of_oldest_message(period=PERIOD, label="age")],
            ),
        )
        self.dashboard.add_widgets(
            _graph("Instances stored / failures", [emf("InstancesStored"), emf("StowFailures")]),
            _graph("Bytes stored / served", [emf("BytesStored"), emf("BytesServed")]),
            _graph("Query results", [emf("QueryResults")]),
        )
        if deid is not None:
            self.dashboard.add_widgets(*deid_widgets(deid, width=WIDTH))
        if bridge is not None:
            self.dashboard.add_widgets(*bridge_widgets(bridge, width=WIDTH))
