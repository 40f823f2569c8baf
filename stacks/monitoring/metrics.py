"""Metrics the dashboard and the alarms share, so both always show the same thing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

PERIOD = Duration.minutes(5)
NAMESPACE = "cloudpacs"


@dataclass(frozen=True)
class Watched:
    """The resources of a stage that the dashboard shows and the alarms watch."""

    api_stage: apigw.Stage
    functions: Mapping[str, lambda_.IFunction]
    table: dynamodb.ITable
    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue


def emf(metric_name: str, label: str | None = None) -> cw.MathExpression:
    """An EMF metric the functions emit through Powertools, summed over all its dimensions."""
    return cw.MathExpression(
        expression=f"SUM(SEARCH('{{{NAMESPACE}}} MetricName=\"{metric_name}\"', 'Sum', 300))",
        label=label or metric_name,
        period=PERIOD,
    )


def total(label: str, *metrics: cw.IMetric) -> cw.MathExpression:
    names = {f"m{i}": metric for i, metric in enumerate(metrics)}
    return cw.MathExpression(
        expression=" + ".join(f"FILL({name}, 0)" for name in names),
        using_metrics=names,
        label=label,
        period=PERIOD,
    )
