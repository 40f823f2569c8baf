"""STOW-RS, large-upload declarations, DELETE, corrections and legal holds: every write to the
archive."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudpacs.aws_lambda.http_app import lambda_http_app
from cloudpacs.observability import logger, metrics, tracer

app = lambda_http_app("stow", "stow", "uploads", "delete", "corrections", "hold")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app(event, context)
