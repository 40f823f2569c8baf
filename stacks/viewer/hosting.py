"""Viewer hosting: a private S3 bucket served only through CloudFront (origin access control).

The bucket holds the prebuilt OHIF viewer and its generated ``app-config.js``: no patient
data, which stays behind the API. CloudFront answers over HTTPS only, with security headers
(HSTS, no sniffing, no framing, no referrer across origins, the viewer's Content Security
Policy from ``cloudpacs.viewer.policy``), and sends the viewer's client-side routes
(``/viewer?StudyInstanceUIDs=...``, ``/callback``) to ``index.html``.

This stack comes before the API stack: the API allows the distribution's origin (CORS), and
the viewer-app stack, after the API, deploys the files with the API's URL in them.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cloudpacs.viewer.policy import content_security_policy
from stacks.acknowledge import acknowledge
from stacks.storage.buckets import AccessLogBucket, secure_bucket_props

CONNECT = ("https://*.amazonaws.com", "https://*.amazoncognito.com")
"""The API (``execute-api``) and Cognito (token endpoint, hosted sign-in) of the stage."""
SPA_ROUTES = (403, 404)
"""What S3 answers through OAC for a key it does not hold: a route of the viewer's router."""


class ViewerHostingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        access_log_expiry_days: int,
        retain: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        logs = AccessLogBucket(
            self, "AccessLogs", expiry_days=access_log_expiry_days, removal_policy=removal
        )
        # CloudFront standard logs are delivered with object ACLs.
        cfn_logs = logs.bucket.node.default_child
        assert isinstance(cfn_logs, s3.CfnBucket)
        cfn_logs.add_property_override(
            "OwnershipControls.Rules", [{"ObjectOwnership": "ObjectWriter"}]
        )
        self.bucket = s3.Bucket(
            self,
            "Files",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            server_access_logs_bucket=logs.bucket,
            server_access_logs_prefix="viewer-bucket/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))],
            **secure_bucket_props(removal),  # type: ignore[arg-type]
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3DefaultEncryptionKMS",
            "The bucket holds the published OHIF viewer (public open-source files and a "
            "configuration naming URLs), no patient data; SSE-S3 lets CloudFront read it "
            "through origin access control without a KMS grant.",
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "The viewer's files are redeployed from the pinned npm package by every deploy; "
            "a cross-region copy adds nothing.",
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="cloudpacs viewer: security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(CONNECT), override=True
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="cloudpacs viewer (OHIF)",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=status,
                    response_http_status=200,
                    response_page_path="/index.html",
                    ttl=Duration.seconds(0),
                )
                for status in SPA_ROUTES
            ],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=logs.bucket,
            log_file_prefix="cloudfront/",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The viewer's files are open source and carry no patient data; who may see "
            "images is decided by the API's Cognito authorizer, not by the caller's country.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "A WAF web ACL for CloudFront must live in us-east-1; the files it serves are "
            "static and public, and the API behind the viewer has its own regional WAF.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The stage's viewer is served on the CloudFront domain, whose default certificate "
            "fixes the viewer TLS policy; a stage with its own domain and ACM certificate "
            "sets TLS_V1_2_2021. Browsers in use negotiate TLS 1.2 or 1.3 anyway.",
        )
        self.origin = f"https://{self.distribution.distribution_domain_name}"
        CfnOutput(self, "ViewerUrl", value=self.origin + "/")
        CfnOutput(self, "ViewerBucket", value=self.bucket.bucket_name)
