"""De-identification into the research store: SQS (jobs, automatic mode) -> this function."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cloudpacs.aws_lambda.anonymize import anonymize_handler
from cloudpacs.observability import logger, metrics, tracer

anonymize = anonymize_handler()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return anonymize(event, context)
