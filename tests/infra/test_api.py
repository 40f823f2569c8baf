"""API: the route table, a Cognito authorizer with scopes on every method, logging, tracing,
throttling, the WAF, and the functions with their layer and least-privilege roles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from cloudpacs.web.routers import all_routers
from stacks.api.routes import BASE, RESEARCH, ROUTES
from stacks.api.service_function import ServiceFunction
from stacks.names import StageNames
from tests.infra.support import (
    FUNCTIONS,
    STAGES,
    Synthesized,
    only,
    placeholder_assets,
    resources,
)


def _path(template: dict[str, Any], resource_id: str) -> str:
    """Rebuild a method's path from the AWS::ApiGateway::Resource parent chain."""
    parts = []
    while True:
        resource = template["Resources"][resource_id]["Properties"]
        parts.append(resource["PathPart"])
        parent = resource["ParentId"]
        if "Ref" not in parent:
            return "/" + "/".join(reversed(parts))
        resource_id = parent["Ref"]


def _methods(template: dict[str, Any]) -> list[dict[str, Any]]:
    methods = []
    for method in resources(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        ref = props["ResourceId"].get("Ref")
        methods.append({**props, "path": _path(template, ref) if ref else "/"})
    return methods


@pytest.mark.parametrize("stage", STAGES)
def test_every_method_requires_a_cognito_token_with_a_scope(
    synthesized: Synthesized, stage: str
) -> None:
    template = synthesized.template_json(stage, "Api")
    authorizer_id = next(iter(resources(template, "AWS::ApiGateway::Authorizer")))
    methods = [m for m in _methods(template) if m["HttpMethod"] != "OPTIONS"]
    assert len(methods) == len(ROUTES)
    for method in methods:
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS", method["path"]
        assert method["AuthorizerId"] == {"Ref": authorizer_id}
        assert method["AuthorizationScopes"] and all(
            s.startswith("cloudpacs/") for s in method["AuthorizationScopes"]
        )


@pytest.mark.parametrize("stage", STAGES)
def test_only_cors_preflight_is_open(synthesized: Synthesized, stage: str) -> None:
    for method in _methods(synthesized.template_json(stage, "Api")):
        if method["AuthorizationType"] == "NONE":
            assert method["HttpMethod"] == "OPTIONS", method["path"]


def test_routes_cover_dicomweb() -> None:
    table = {(r.method, r.path): r.function for r in ROUTES}
    study, series = "/dicom-web/studies/{study}", "/dicom-web/studies/{study}/series/{series}"
    instance = series + "/instances/{instance}"
    expected = {
        ("GET", "/dicom-web/studies"): "qido",
        ("GET", "/dicom-web/series"): "qido",
        ("GET", "/dicom-web/instances"): "qido",
        ("GET", study + "/series"): "qido",
        ("GET", series + "/instances"): "qido",
        ("GET", study): "wado",
        ("GET", series + "/metadata"): "wado",
        ("GET", instance + "/frames/{frames}"): "wado",
        ("GET", instance + "/bulkdata/{path+}"): "wado",
        ("POST", "/dicom-web/studies"): "stow",
        ("POST", study): "stow",
        ("POST", "/dicom-web/uploads"): "stow",
        ("GET", "/dicom-web/uploads/{upload}"): "stow",
        ("DELETE", study): "stow",
        ("DELETE", series): "stow",
        ("DELETE", instance): "stow",
        ("PATCH", study): "stow",
        ("POST", "/dicom-web/patients/{patient}/merge"): "stow",
        ("PUT", study + "/hold"): "stow",
        ("DELETE", study + "/hold"): "stow",
        ("GET", study + "/hold"): "stow",
    }
    assert {key: table.get(key) for key in expected} == expected


LOCAL_ONLY = {
    ("PUT", "/dicom-web/uploads/{}/content"),
    ("POST", "/dicom-web/uploads/{}/content"),
    ("GET", "/metrics"),
    ("GET", "/audit"),
}
"""Routes of the embedded server only: upload bodies go to the inbox bucket by presigned URL
in AWS, metrics to CloudWatch, the audit trail to its log group."""


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_route_of_the_app_is_routed() -> None:
    """API Gateway and the app agree on every method and path (parameter names aside; HEAD is
    answered by the app as GET, ``cloudpacs.web.head``)."""
    served = set()
    bases = {"dicomweb": BASE, "root": "", "research": RESEARCH}
    for _, router, mount in all_routers():
        for route in router.routes:
            path = _template(bases[mount] + route.path)  # type: ignore[attr-defined]
            served |= {(m, path) for m in route.methods}  # type: ignore[attr-defined]
    routed = {(r.method, _template(r.path)) for r in ROUTES if r.method != "HEAD"}
    assert served - LOCAL_ONLY == routed


@pytest.mark.parametrize("stage", STAGES)
def test_routes_reach_their_functions(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Api")
    functions = {
        fid: f["Properties"]["FunctionName"]
        for fid, f in resources(template, "AWS::Lambda::Function").items()
    }
    # The API invokes each function's "live" alias (stacks/api/releases.py).
    aliases = {
        aid: functions[a["Properties"]["FunctionName"]["Ref"]]
        for aid, a in resources(template, "AWS::Lambda::Alias").items()
    }
    seen = {}
    for method in _methods(template):
        if method["HttpMethod"] == "OPTIONS":
            continue
        uri = method["Integration"]["Uri"]["Fn::Join"][1]
        target = next(p["Ref"] for p in uri if isinstance(p, dict) and "Ref" in p)
        seen[(method["HttpMethod"], method["path"])] = aliases[target]
    assert seen == {(r.method, r.path): f"cloudpacs-{stage}-{r.function}" for r in ROUTES}


@pytest.mark.parametrize("stage", STAGES)
def test_api_stage_logs_traces_and_throttles(synthesized: Synthesized, stage: str) -> None:
    settings = synthesized.settings.stages[stage]
    template = synthesized.template(stage, "Api")
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": stage,
            "TracingEnabled": True,
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
            "MethodSettings": [
                Match.object_like(
                    {
                        "LoggingLevel": "ERROR",
                        "DataTraceEnabled": False,
                        "ThrottlingRateLimit": settings.api_rate_limit,
                        "ThrottlingBurstLimit": settings.api_burst_limit,
                    }
                )
            ],
        },
    )
    template.has_resource_properties("AWS::ApiGateway::RestApi", {"BinaryMediaTypes": ["*/*"]})


@pytest.mark.parametrize("stage", STAGES)
def test_waf_guards_the_stage(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Api")
    acl = only(template, "AWS::WAFv2::WebACL")["Properties"]
    rate = next(r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"])
    assert (
        rate["Statement"]["RateBasedStatement"]["Limit"]
        == synthesized.settings.stages[stage].waf_rate_limit
    )
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    association = only(template, "AWS::WAFv2::WebACLAssociation")["Properties"]
    stage_id = next(iter(resources(template, "AWS::ApiGateway::Stage")))
    assert stage_id in str(association["ResourceArn"])
    logging = only(template, "AWS::WAFv2::LoggingConfiguration")["Properties"]
    assert logging["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]


@pytest.mark.parametrize("stage", STAGES)
def test_functions_run_traced_on_the_layer(synthesized: Synthesized, stage: str) -> None:
    settings = synthesized.settings.stages[stage]
    template = synthesized.template_json(stage, "Api")
    layer_id = next(iter(resources(template, "AWS::Lambda::LayerVersion")))
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
    }
    assert set(functions) == {f"cloudpacs-{stage}-{name}" for name in FUNCTIONS}
    for name in FUNCTIONS:
        props = functions[f"cloudpacs-{stage}-{name}"]
        assert props["Handler"] == "handler.handler"
        assert props["Runtime"] in ("python3.11", "python3.12")
        assert props["Architectures"] == [settings.lambda_architecture]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Layers"] == [{"Ref": layer_id}]
        assert props["MemorySize"] == settings.lambda_memory_mb
        env = props["Environment"]["Variables"]
        assert env["CLOUDPACS_BACKEND"] == "aws"
        assert env["CLOUDPACS_TABLE_NAME"] == f"cloudpacs-{stage}-index"
        assert env["CLOUDPACS_BUCKET_NAME"].startswith(f"cloudpacs-{stage}-dicom-")
        assert env["CLOUDPACS_INBOX_BUCKET_NAME"].startswith(f"cloudpacs-{stage}-inbox-")
        assert env["POWERTOOLS_SERVICE_NAME"] == name
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "cloudpacs"
    assert functions[f"cloudpacs-{stage}-ingest"]["Timeout"] == settings.ingest_timeout_seconds


@pytest.mark.parametrize("stage", STAGES)
def test_ingest_consumes_the_inbox_queue(synthesized: Synthesized, stage: str) -> None:
    mappings = resources(synthesized.template_json(stage, "Api"), "AWS::Lambda::EventSourceMapping")
    # The other mapping feeds the anonymize function (tests/infra/test_deidentification.py).
    (props,) = [
        m["Properties"]
        for m in mappings.values()
        if "storage" in str(m["Properties"]["EventSourceArn"])
    ]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("stage", STAGES)
def test_functions_answer_cors_from_the_stage_origins(synthesized: Synthesized, stage: str) -> None:
    """Browser viewers need Access-Control-Allow-Origin on every response, not only on the
    preflight API Gateway answers: the functions get the stage's origins and the origin of
    the stage's own viewer (its CloudFront domain, known once the viewer stack is deployed)."""
    origins = ",".join(synthesized.settings.stages[stage].cors_origins)
    template = synthesized.template_json(stage, "Api")
    functions = resources(template, "AWS::Lambda::Function").values()
    for function in ("qido", "wado", "stow"):
        [found] = [
            f
            for f in functions
            if f["Properties"].get("FunctionName") == f"cloudpacs-{stage}-{function}"
        ]
        value = found["Properties"]["Environment"]["Variables"]["CLOUDPACS_CORS_ALLOWED_ORIGINS"]
        separator, parts = value["Fn::Join"]
        assert separator == ""
        text = "".join(p if isinstance(p, str) else "<viewer domain>" for p in parts)
        assert text == f"{origins},https://<viewer domain>"
        [reference] = [p for p in parts if not isinstance(p, str)]
        assert f"cloudpacs-{stage}-viewer" in json.dumps(reference)
        assert "DomainName" in json.dumps(reference)


def _service_function(tmp_path: Path, *, tracing: bool) -> dict[str, Any]:
    stack = Stack(App(), "Traced", env=Environment(account="000000000000", region="eu-central-1"))
    assets = placeholder_assets(tmp_path / ("on" if tracing else "off"))
    ServiceFunction(
        stack,
        "Qido",
        name="qido",
        names=StageNames(stage="dev", account="000000000000", region="eu-central-1"),
        description="QIDO-RS search",
        assets=assets,
        layer=lambda_.LayerVersion(stack, "Layer", code=assets.layer_code("arm64")),
        architecture="arm64",
        memory_mb=1024,
        timeout_seconds=29,
        environment={},
        log_key=kms.Key(stack, "Key"),
        log_retention_days=30,
        removal_policy=RemovalPolicy.DESTROY,
        tracing=tracing,
    )
    (function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    props: dict[str, Any] = function["Properties"]
    return props


def test_tracing_off_disables_xray_and_tells_powertools(tmp_path: Path) -> None:
    traced, untraced = (_service_function(tmp_path, tracing=on) for on in (True, False))
    assert traced["TracingConfig"] == {"Mode": "Active"}
    assert "POWERTOOLS_TRACE_DISABLED" not in traced["Environment"]["Variables"]
    assert untraced.get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": "PassThrough"}
    assert untraced["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
