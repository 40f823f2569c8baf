"""Retention: deletes studies past the stage's retention period, daily (EventBridge)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudpacs.aws_lambda.retention import retention_handler
from cloudpacs.observability import logger, metrics, tracer

retention = retention_handler()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return retention(event, context)
