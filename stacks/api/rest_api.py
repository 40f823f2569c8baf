"""The REST API: Cognito authorizer on every method, access logs, throttling, CORS.

- Every method of the route table requires a valid Cognito access token with the method's
  scope; only CORS preflight (``OPTIONS``, which browsers send without credentials) is open.
- All media types are binary (``*/*``): DICOM bodies arrive base64-encoded to Lambda and
  responses are decoded by API Gateway whatever the ``Accept`` header (DESIGN.md §5).
- Access logs are JSON in an encrypted log group; execution logs at ERROR level, X-Ray on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cloudpacs.security.cors import CONDITIONAL_HEADERS, DEFAULT_METHODS
from stacks.acknowledge import acknowledge
from stacks.api.routes import Route
from stacks.auth import scopes
from stacks.log_retention import retention

CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    *CONDITIONAL_HEADERS,
]
EXPOSED_HEADERS = [
    "Content-Location",
    "Location",
    "Warning",
    "Content-Type",
    "ETag",
    "Last-Modified",
]


class DicomWebApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        user_pool: cognito.IUserPool,
        routes: Sequence[Route],
        functions: Mapping[str, lambda_.IFunction],
        cors_origins: Sequence[str],
        rate_limit: int,
        burst_limit: int,
        log_key: kms.IKey,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/cloudpacs/{stage}/api-access",
            encryption_key=log_key,
            retention=retention(log_retention_days),
            removal_policy=removal_policy,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"cloudpacs-{stage}",
            description=f"cloudpacs DICOMweb API ({stage})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=["*/*"],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_cors_preflight_options=_cors(cors_origins),
            deploy_options=apigw.StageOptions(
                stage_name=stage,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
            ),
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            authorizer_name=f"cloudpacs-{stage}-cognito",
            cognito_user_pools=[user_pool],
        )
        integrations = {
            name: apigw.LambdaIntegration(function, allow_test_invoke=False)
            for name, function in functions.items()
        }
        for route in routes:
            resource = self.api.root.resource_for_path(route.path)
            resource.add_method(
                route.method,
                integrations[route.function],
                authorizer=self.authorizer,
                authorization_type=apigw.AuthorizationType.COGNITO,
                authorization_scopes=[scopes.full(route.scope)],
            )
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "DICOMweb bodies (multipart/related DICOM) and query keys (any attribute keyword or "
            "tag) cannot be described by API Gateway models; the services validate every "
            "request and answer 400/413/415 as PS3.18 requires.",
        )
        acknowledge(
            self.api,
            "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
            "Responses carry patient data released per caller; a shared stage cache could hand "
            "one caller's response to another, so caching stays off.",
        )
        acknowledge(
            self.api,
            "HIPAA.Security-APIGWSSLEnabled",
            "The backends are Lambda proxy integrations invoked through AWS's signed internal "
            "path; client certificates apply only to HTTP backends.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level role that lets API Gateway write execution and access logs; "
            "AWS maintains this policy for exactly that purpose.",
        )

    @property
    def url(self) -> str:
        return self.api.url_for_path("/dicom-web")


def _cors(origins: Sequence[str]) -> apigw.CorsOptions | None:
    if not origins:
        return None
    return apigw.CorsOptions(
        allow_origins=list(origins),
        allow_methods=list(DEFAULT_METHODS),
        allow_headers=CORS_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,
    )
