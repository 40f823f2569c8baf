"""Ingest of large uploads: S3 ObjectCreated -> SQS -> this function (DESIGN.md §5)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudpacs.aws_lambda.ingest import ingest_handler
from cloudpacs.observability import logger, metrics, tracer

ingest = ingest_handler()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return ingest(event, context)
