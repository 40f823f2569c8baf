"""The viewer stacks of every stage: private bucket behind CloudFront (OAC), its login client,
the generated configuration, and the placeholder when the viewer was not fetched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Annotations, Match, Template

from cdk_app.app import COMMIT_CONTEXT, build_app
from stacks.dimse.image import BridgeImage
from stacks.viewer.app import NOT_FETCHED
from tests.infra.support import (
    COMMIT,
    STAGES,
    Synthesized,
    only,
    placeholder_assets,
    resources,
)


def _json(synthesized: Synthesized, stage: str, name: str) -> dict[str, Any]:
    stack = synthesized.assembly.get_nested_assembly(f"assembly-{stage}").get_stack_by_name(
        f"cloudpacs-{stage}-{name}"
    )
    loaded: dict[str, Any] = json.loads(Path(stack.template_full_path).read_text("utf-8"))
    return loaded


@pytest.mark.parametrize("stage", STAGES)
def test_bucket_is_private_and_read_only_by_cloudfront(
    synthesized: Synthesized, stage: str
) -> None:
    template = _json(synthesized, stage, "viewer")
    buckets = resources(template, "AWS::S3::Bucket")
    files = next(b for b in buckets.values() if "viewer" in str(b["Properties"].get("BucketName")))
    props = files["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "LoggingConfiguration" in props
    policies = resources(template, "AWS::S3::BucketPolicy")
    statements = [
        s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    reads = [s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert reads and all(s["Effect"] == "Allow" and s["Action"] == "s3:GetObject" for s in reads)
    assert all("AWS:SourceArn" in json.dumps(s["Condition"]) for s in reads)
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)
    only(template, "AWS::CloudFront::OriginAccessControl")
    assert not resources(template, "AWS::CloudFront::CloudFrontOriginAccessIdentity")


@pytest.mark.parametrize("stage", STAGES)
def test_distribution_serves_the_spa_over_https_with_security_headers(
    synthesized: Synthesized, stage: str
) -> None:
    template = _json(synthesized, stage, "viewer")
    config = only(template, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert sorted(r["ErrorCode"] for r in config["CustomErrorResponses"]) == [403, 404]
    assert all(r["ResponsePagePath"] == "/index.html" for r in config["CustomErrorResponses"])
    assert all(r["ResponseCode"] == 200 for r in config["CustomErrorResponses"])
    assert "Logging" in config
    headers = only(template, "AWS::CloudFront::ResponseHeadersPolicy")["Properties"]
    security = headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ContentTypeOptions"]["Override"] is True
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "frame-ancestors 'none'" in csp and "https://*.amazoncognito.com" in csp


@pytest.mark.parametrize("stage", STAGES)
def test_login_client_is_public_with_the_code_grant_on_the_viewer_domain(
    synthesized: Synthesized, stage: str
) -> None:
    template = _json(synthesized, stage, "viewer-app")
    client = only(template, "AWS::Cognito::UserPoolClient")["Properties"]
    assert client.get("GenerateSecret", False) is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    scopes = client["AllowedOAuthScopes"]
    assert "openid" in scopes
    assert not any(s.endswith(("/write", "/delete")) for s in json.dumps(scopes).split('"'))
    [callback] = client["CallbackURLs"]
    assert json.dumps(callback).count("DomainName") == 1 and "/callback" in json.dumps(callback)


@pytest.mark.parametrize("stage", STAGES)
def test_deployment_carries_the_viewer_and_its_generated_configuration(
    synthesized: Synthesized, stage: str
) -> None:
    template = _json(synthesized, stage, "viewer-app")
    deployment = only(template, "Custom::CDKBucketDeployment")["Properties"]
    assert (
        deployment["DestinationBucketName"] == f"cloudpacs-{stage}-viewer-000000000000-eu-central-1"
    )
    assert deployment["Prune"] is True
    assert len(deployment["SourceObjectKeys"]) == 2  # the dist, and app-config.js
    markers = json.dumps(deployment["SourceMarkers"])
    assert "RestApi" in markers or "DicomWeb" in markers  # the API's URL, filled in at deploy
    assert "UserPool" in markers and "ViewerClient" in markers
    invalidated = deployment["DistributionPaths"]
    assert "/app-config.js" in invalidated and "/index.html" in invalidated


def test_without_a_fetched_viewer_a_placeholder_is_deployed_with_a_warning(
    synthesized: Synthesized, tmp_path: Path, bridge_image: BridgeImage
) -> None:
    app = build_app(
        assets=placeholder_assets(tmp_path),
        bridge_image=bridge_image,
        viewer_dist=tmp_path / "empty",  # no index.html: never fetched
        outdir=str(tmp_path / "cdk.out"),
        context={"@aws-cdk/core:failSynthOnValidationErrors": False, COMMIT_CONTEXT: COMMIT},
    )
    stage = app.node.find_child("dev")
    without = stage.node.find_child("ViewerApp")
    assert isinstance(without, Stack)
    Annotations.from_stack(without).has_warning("*", Match.string_like_regexp(NOT_FETCHED))
    deployment = only(Template.from_stack(without).to_json(), "Custom::CDKBucketDeployment")
    assert len(deployment["Properties"]["SourceObjectKeys"]) == 2  # app-config.js, placeholder
    fetched = synthesized.app.node.find_child("dev").node.find_child("ViewerApp")
    assert isinstance(fetched, Stack)
    Annotations.from_stack(fetched).has_no_warning("*", Match.string_like_regexp(NOT_FETCHED))
