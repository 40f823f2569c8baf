"""DIMSE stack: the bridge's VPC from the stage CIDR, a network load balancer on 11112 that only
the stage's DIMSE client networks reach, Fargate tasks sized and scaled from settings with a
least-privilege role, the image's build context, and the bridge's alarms and dashboard rows.

The stage templates come from the session's synth; the internet-facing TLS variant, which no
shipped stage uses, is synthesized here as one stack with the same cdk-nag packs.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms

from cdk_app.app import add_compliance_checks
from cdk_app.settings import DEFAULT_STAGES_FILE, StageConfigError, parse_settings
from cdk_app.validation import findings
from stacks.api.assets import ROOT, AssetError
from stacks.dimse.container import BridgeTls
from stacks.dimse.image import BUILD_CONTEXT, DOCKERFILE, BridgeImage
from stacks.dimse.stack import DimseStack
from stacks.names import StageNames
from tests.infra.conftest import BRIDGE_CONTEXT_FILES
from tests.infra.support import STAGES, Synthesized, only, resources

PORT = 11112
BRIDGE_ALARMS = {
    "dimse-no-healthy-targets",
    "dimse-unhealthy-targets",
    "dimse-cpu",
    "dimse-memory",
    "dimse-resets",
}
TASK_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
    "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem", "s3:GetObject", "s3:PutObject", "kms:Decrypt",
    "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
    "kms:ReEncryptTo", "logs:CreateLogStream", "logs:PutLogEvents", "events:PutEvents",
}  # fmt: skip


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ingress_rules(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ingress rule, inline in a security group or standalone, with its group's id."""
    rules = []
    for group_id, group in resources(template, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            rules.append({**rule, "GroupId": {"Fn::GetAtt": [group_id, "GroupId"]}})
    rules.extend(
        r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
    )
    return rules


def role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def container(template: dict[str, Any]) -> dict[str, Any]:
    definition = only(template, "AWS::ECS::TaskDefinition")["Properties"]
    [bridge] = definition["ContainerDefinitions"]
    return dict(bridge)


def environment(template: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container(template)["Environment"]}


@pytest.fixture(params=STAGES)
def stage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def dimse(synthesized: Synthesized, stage: str) -> dict[str, Any]:
    return synthesized.template_json(stage, "Dimse")


def test_vpc_from_the_stage_cidr_without_internet_route(
    synthesized: Synthesized, stage: str, dimse: dict[str, Any]
) -> None:
    vpc = only(dimse, "AWS::EC2::VPC")["Properties"]
    assert vpc["CidrBlock"] == str(synthesized.settings.stages[stage].vpc_cidr)
    assert resources(dimse, "AWS::EC2::NatGateway") == {}
    assert resources(dimse, "AWS::EC2::InternetGateway") == {}  # shipped stages are private
    subnets = resources(dimse, "AWS::EC2::Subnet").values()
    assert len(subnets) == 2 and not any(s["Properties"]["MapPublicIpOnLaunch"] for s in subnets)
    flow_log = only(dimse, "AWS::EC2::FlowLog")["Properties"]
    assert flow_log["TrafficType"] == "ALL" and flow_log["LogDestinationType"] == "cloud-watch-logs"


def test_aws_apis_through_endpoints(dimse: dict[str, Any]) -> None:
    endpoints = resources(dimse, "AWS::EC2::VPCEndpoint").values()
    services = {
        json.dumps(e["Properties"]["ServiceName"]).split(".")[-1].strip('"]}'): e["Properties"]
        for e in endpoints
    }
    assert set(services) == {"s3", "dynamodb", "api", "dkr", "logs", "events"}
    assert services["s3"]["VpcEndpointType"] == services["dynamodb"]["VpcEndpointType"] == "Gateway"


def test_network_load_balancer_listens_on_the_dicom_port(dimse: dict[str, Any]) -> None:
    nlb = only(dimse, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert nlb["Type"] == "network" and nlb["Scheme"] == "internal"
    assert nlb["SecurityGroups"]
    attributes = {a["Key"]: a["Value"] for a in nlb["LoadBalancerAttributes"]}
    assert attributes["load_balancing.cross_zone.enabled"] == "true"
    listener = only(dimse, "AWS::ElasticLoadBalancingV2::Listener")["Properties"]
    assert (listener["Port"], listener["Protocol"]) == (PORT, "TCP")
    target_group_id = next(iter(resources(dimse, "AWS::ElasticLoadBalancingV2::TargetGroup")))
    assert listener["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": {"Ref": target_group_id}}
    ]


def test_prod_load_balancer_is_protected(synthesized: Synthesized) -> None:
    for stage, protected in (("dev", "false"), ("prod", "true")):
        nlb = only(
            synthesized.template_json(stage, "Dimse"), "AWS::ElasticLoadBalancingV2::LoadBalancer"
        )
        attributes = {a["Key"]: a["Value"] for a in nlb["Properties"]["LoadBalancerAttributes"]}
        assert attributes["deletion_protection.enabled"] == protected


def test_only_the_client_networks_reach_the_dicom_port(
    synthesized: Synthesized, stage: str, dimse: dict[str, Any]
) -> None:
    settings = synthesized.settings.stages[stage]
    rules = ingress_rules(dimse)
    assert not [
        r
        for r in rules
        if r.get("CidrIp") in ("0.0.0.0/0", None) and "SourceSecurityGroupId" not in r
    ]
    assert not any(r.get("CidrIpv6") for r in rules)
    by_cidr = {(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in rules if "CidrIp" in r}
    clients = {(str(c), PORT, PORT) for c in settings.dimse_client_cidrs}
    endpoints = {(str(settings.vpc_cidr), 443, 443)}
    assert clients and by_cidr == clients | endpoints
    # The tasks admit the load balancer's group only, on the DICOM port only.
    nlb_group = only(dimse, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"][
        "SecurityGroups"
    ]
    service = only(dimse, "AWS::ECS::Service")["Properties"]
    task_groups = service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
    into_tasks = [r for r in rules if r["GroupId"] in task_groups]
    assert [(r["SourceSecurityGroupId"], r["FromPort"], r["ToPort"]) for r in into_tasks] == [
        (nlb_group[0], PORT, PORT)
    ]
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"


def test_health_checks_the_dicom_port(dimse: dict[str, Any]) -> None:
    group = only(dimse, "AWS::ElasticLoadBalancingV2::TargetGroup")["Properties"]
    assert (group["TargetType"], group["Protocol"], group["Port"]) == ("ip", "TCP", PORT)
    assert (group["HealthCheckProtocol"], group["HealthCheckPort"]) == ("TCP", str(PORT))
    bridge = container(dimse)
    assert bridge["HealthCheck"]["Command"] == ["CMD", "python", "-m", "dimse_bridge.healthcheck"]
    assert bridge["PortMappings"] == [{"ContainerPort": PORT, "Protocol": "tcp"}]


def test_tasks_sized_and_scaled_from_settings(
    synthesized: Synthesized, stage: str, dimse: dict[str, Any]
) -> None:
    settings = synthesized.settings.stages[stage]
    definition = only(dimse, "AWS::ECS::TaskDefinition")["Properties"]
    assert (definition["Cpu"], definition["Memory"]) == (
        str(settings.dimse_cpu),
        str(settings.dimse_memory),
    )
    target = only(dimse, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (
        settings.dimse_min_tasks,
        settings.dimse_max_tasks,
    )
    policy = only(dimse, "AWS::ApplicationAutoScaling::ScalingPolicy")["Properties"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )
    service = only(dimse, "AWS::ECS::Service")["Properties"]
    assert "DesiredCount" not in service  # a deployment never resets what autoscaling chose
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }
    cluster = only(dimse, "AWS::ECS::Cluster")["Properties"]
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]


def test_task_role_holds_only_what_the_bridge_calls(stage: str, dimse: dict[str, Any]) -> None:
    definition = only(dimse, "AWS::ECS::TaskDefinition")["Properties"]
    statements = role_statements(dimse, definition["TaskRoleArn"]["Fn::GetAtt"][0])
    actions = {a for s in statements for a in _list(s["Action"])}
    assert actions == TASK_ACTIONS
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement["Resource"] != "*"
        text = json.dumps(statement["Resource"])
        if any(a.startswith("s3:") for a in _list(statement["Action"])):
            assert text.count(":s3:::") == 1 and f"cloudpacs-{stage}-dicom-" in text
            assert text.endswith('/studies/*"]]}')
        if any(a.startswith("dynamodb:") for a in _list(statement["Action"])):
            assert f"table/cloudpacs-{stage}-index" in text
        if any(a.startswith("logs:") for a in _list(statement["Action"])):
            assert f"log-group:/cloudpacs/{stage}/audit:*" in text


def test_no_wildcard_actions(dimse: dict[str, Any]) -> None:
    for policy in resources(dimse, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in _list(statement["Action"]):
                assert "*" not in action, action
                if statement["Resource"] == "*":
                    assert action == "ecr:GetAuthorizationToken"


def test_bridge_is_configured_like_the_api(
    synthesized: Synthesized, stage: str, dimse: dict[str, Any]
) -> None:
    settings = synthesized.settings.stages[stage]
    env = environment(dimse)
    assert env["CLOUDPACS_BACKEND"] == "aws"
    assert env["CLOUDPACS_TABLE_NAME"] == f"cloudpacs-{stage}-index"
    assert env["CLOUDPACS_BUCKET_NAME"].startswith(f"cloudpacs-{stage}-dicom-")
    assert env["CLOUDPACS_AUDIT_LOG_GROUP"] == f"/cloudpacs/{stage}/audit"
    assert "CLOUDPACS_EVENT_BUS_NAME" in env
    assert (env["CLOUDPACS_DIMSE_HOST"], env["CLOUDPACS_DIMSE_PORT"]) == ("0.0.0.0", str(PORT))
    assert json.loads(env["CLOUDPACS_DIMSE_AE_ROLES"]) == settings.dimse_ae_roles
    assert not any(name.startswith("CLOUDPACS_DIMSE_TLS") for name in env)  # no secret set
    assert "Secrets" not in container(dimse) and "EntryPoint" not in container(dimse)


def test_logs_are_encrypted_and_kept_per_settings(
    synthesized: Synthesized, stage: str, dimse: dict[str, Any]
) -> None:
    days = synthesized.settings.stages[stage].log_retention_days
    groups = {
        g["Properties"]["LogGroupName"]: g["Properties"]
        for g in resources(dimse, "AWS::Logs::LogGroup").values()
    }
    assert set(groups) == {f"/cloudpacs/{stage}/dimse", f"/cloudpacs/{stage}/dimse-vpc-flows"}
    for group in groups.values():
        assert group["RetentionInDays"] == days and "KmsKeyId" in group
    logging = container(dimse)["LogConfiguration"]
    assert logging["LogDriver"] == "awslogs"


def test_alarms_notify_the_stage_topic(stage: str, dimse: dict[str, Any]) -> None:
    alarms = {
        a["Properties"]["AlarmName"].removeprefix(f"cloudpacs-{stage}-"): a["Properties"]
        for a in resources(dimse, "AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == BRIDGE_ALARMS
    topic = re.compile(rf"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{{12}}:cloudpacs-{stage}-alarms$")
    for name, alarm in alarms.items():
        assert all(topic.match(arn) for arn in alarm["AlarmActions"] + alarm["OKActions"]), name
        assert alarm["AlarmDescription"], name
    assert alarms["dimse-no-healthy-targets"]["TreatMissingData"] == "breaching"


def test_monitoring_shows_the_bridge_and_lets_alarms_publish(
    synthesized: Synthesized, stage: str
) -> None:
    monitoring = synthesized.template_json(stage, "Monitoring")
    topic = only(monitoring, "AWS::SNS::Topic")["Properties"]
    assert topic["TopicName"] == f"cloudpacs-{stage}-alarms"
    policy = only(monitoring, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]
    assert any(
        s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and s["Action"] == "sns:Publish"
        for s in policy["Statement"]
    )
    body = json.dumps(only(monitoring, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"])
    for needle in (
        "CPUUtilization",
        "MemoryUtilization",
        "HealthyHostCount",
        "UnHealthyHostCount",
        "TCP_Client_Reset_Count",
        "TCP_ELB_Reset_Count",
        "TCP_Target_Reset_Count",
    ):
        assert needle in body, needle


def test_image_context_holds_only_what_the_image_needs(synthesized: Synthesized) -> None:
    nested = synthesized.assembly.get_nested_assembly("assembly-dev")
    stack = nested.get_stack_by_name("cloudpacs-dev-dimse")
    manifest = json.loads((Path(nested.directory) / f"{stack.id}.assets.json").read_text("utf-8"))
    [image] = manifest["dockerImages"].values()
    assert image["source"]["dockerFile"] == DOCKERFILE
    assert image["source"]["platform"] == "linux/amd64"
    staged = Path(nested.directory) / image["source"]["directory"]
    files = {str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()}
    assert files == set(BRIDGE_CONTEXT_FILES)
    definition = only(synthesized.template_json("dev", "Dimse"), "AWS::ECS::TaskDefinition")
    assert definition["Properties"]["RuntimePlatform"]["CpuArchitecture"] == "X86_64"


def test_dockerfile_copies_only_from_the_build_context() -> None:
    """The real Dockerfile must not need anything the allow-list leaves out."""
    dockerfile = ROOT / DOCKERFILE
    text = re.sub(r"\\\n", " ", dockerfile.read_text("utf-8"))
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]):
            continue  # from another build stage, not the context
        for source in args[:-1]:
            source = source.removeprefix("./").rstrip("/")
            assert source in ("", ".") or any(
                source == path or source.startswith(f"{path}/") for path in BUILD_CONTEXT
            ), f"{line!r}: {source} is outside the build context {BUILD_CONTEXT}"


def test_missing_dockerfile_stops_synth(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="Dockerfile"):
        BridgeImage(context_dir=tmp_path).container_image()


@pytest.fixture(scope="module")
def exposed(
    tmp_path_factory: pytest.TempPathFactory, bridge_image: BridgeImage
) -> tuple[dict[str, Any], Path]:
    """An internet-facing bridge with TLS, required client certificates and a C-MOVE
    destination: the branches no shipped stage takes, with the same cdk-nag packs."""
    outdir = tmp_path_factory.mktemp("dimse-variant")
    app = App(outdir=str(outdir), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    env = Environment(account="111111111111", region="eu-west-1")
    shared = Stack(app, "Shared", env=env)  # what the storage and API stacks would provide
    stack = DimseStack(
        app,
        "Exposed",
        env=env,
        names=StageNames(stage="qa", account="111111111111", region="eu-west-1"),
        image=bridge_image,
        data_key=kms.Key.from_key_arn(
            shared,
            "DataKey",
            "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000001",
        ),
        log_key=kms.Key.from_key_arn(
            shared,
            "LogKey",
            "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000002",
        ),
        audit_log_name="/cloudpacs/qa/audit",
        event_bus=events.EventBus.from_event_bus_name(shared, "Bus", "cloudpacs-qa"),
        vpc_cidr="10.50.0.0/20",
        client_cidrs=["198.51.100.0/24"],
        internet_facing=True,
        min_tasks=2,
        max_tasks=4,
        cpu=1024,
        memory_mib=2048,
        ae_roles={"CT_*": "technologist"},
        move_destinations={"WS1": {"host": "192.0.2.10", "port": 104, "tls": True}},
        tls=BridgeTls("cloudpacs/qa/dimse-tls", "required"),
        log_retention_days=30,
        retain_logs=False,
        deletion_protection=True,
    )
    add_compliance_checks(app)
    assembly = app.synth()
    template = json.loads(
        Path(assembly.get_stack_by_name(stack.stack_name).template_full_path).read_text("utf-8")
    )
    return template, Path(assembly.directory)


def test_exposed_variant_has_no_unacknowledged_findings(
    exposed: tuple[dict[str, Any], Path],
) -> None:
    # Only the bridge's stack: the empty "Shared" stand-in is not deployed anywhere.
    unacknowledged = [
        finding
        for finding in findings(exposed[1], severities=("error", "warning"))
        if finding.construct.startswith("Exposed")
    ]
    assert unacknowledged == [], "\n".join(str(f) for f in unacknowledged)


def test_internet_facing_load_balancer_sits_alone_in_public_subnets(
    exposed: tuple[dict[str, Any], Path],
) -> None:
    template = exposed[0]
    nlb = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert nlb["Scheme"] == "internet-facing"
    assert resources(template, "AWS::EC2::NatGateway") == {}
    subnets = resources(template, "AWS::EC2::Subnet")
    public = {sid for sid, s in subnets.items() if "edge" in sid}
    assert len(public) == 2 and not any(
        s["Properties"]["MapPublicIpOnLaunch"] for s in subnets.values()
    )
    assert {s["Ref"] for s in nlb["Subnets"]} == public
    service = only(template, "AWS::ECS::Service")["Properties"]
    task_subnets = {
        s["Ref"] for s in service["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    }
    assert task_subnets and task_subnets.isdisjoint(public)
    cidrs = {r.get("CidrIp") for r in ingress_rules(template)} - {None}
    assert cidrs == {"198.51.100.0/24", "10.50.0.0/20"}


def test_tls_material_comes_from_secrets_manager(exposed: tuple[dict[str, Any], Path]) -> None:
    template = exposed[0]
    bridge = container(template)
    secrets = {s["Name"]: json.dumps(s["ValueFrom"]) for s in bridge["Secrets"]}
    assert set(secrets) == {"TLS_CERT_PEM", "TLS_KEY_PEM", "TLS_CA_PEM"}
    for name, field in (("TLS_CERT_PEM", "cert"), ("TLS_KEY_PEM", "key"), ("TLS_CA_PEM", "ca")):
        assert "secret:cloudpacs/qa/dimse-tls" in secrets[name] and f":{field}::" in secrets[name]
    env = environment(template)
    assert env["CLOUDPACS_DIMSE_TLS_CERT"] == "/tmp/tls/cert.pem"
    assert env["CLOUDPACS_DIMSE_TLS_CA"] == "/tmp/tls/ca.pem"
    assert env["CLOUDPACS_DIMSE_TLS_REQUIRE_CLIENT_CERT"] == "true"
    assert bridge["EntryPoint"] == ["/bin/sh", "-c"]
    [script] = bridge["Command"]
    assert "umask 077" in script and script.endswith("exec python -m dimse_bridge")
    assert "unset TLS_CERT_PEM TLS_KEY_PEM TLS_CA_PEM" in script
    endpoints = json.dumps(resources(template, "AWS::EC2::VPCEndpoint"))
    assert "secretsmanager" in endpoints
    assert json.loads(env["CLOUDPACS_DIMSE_MOVE_DESTINATIONS"]) == {
        "WS1": {"host": "192.0.2.10", "port": 104, "tls": True}
    }
    egress = [
        rule
        for group in resources(template, "AWS::EC2::SecurityGroup").values()
        for rule in group["Properties"].get("SecurityGroupEgress", [])
    ]
    assert {"CidrIp": "192.0.2.10/32", "FromPort": 104, "ToPort": 104} in [
        {k: r[k] for k in ("CidrIp", "FromPort", "ToPort")} for r in egress
    ]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"dimse_memory": 3000}, "dimse_memory"),
        ({"dimse_cpu": 300}, "dimse_cpu"),
        ({"dimse_min_tasks": 3, "dimse_max_tasks": 2}, "dimse_max_tasks"),
        ({"dimse_min_tasks": 0}, "dimse_min_tasks"),
        ({"dimse_client_cidrs": ["0.0.0.0/0"]}, "dimse_client_cidrs"),
        ({"dimse_client_cidrs": ["10.4.8.0/24"]}, "dimse_client_cidrs"),
        ({"dimse_internet_facing": True}, "dimse_tls_secret"),
        ({"dimse_tls_client_certs": "required"}, "dimse_tls_secret"),
        ({"dimse_ae_roles": {"CT_*": "radiologist"}}, "dimse_ae_roles"),
        ({"dimse_ae_roles": {"CT_*": "viewer", "CT_1": "admin"}}, "dimse_ae_roles"),
        ({"dimse_move_destinations": {"WS": "ws.example.org"}}, "dimse_move_destinations"),
    ],
)
def test_invalid_dimse_settings_are_named(overrides: dict[str, Any], named: str) -> None:
    import yaml

    document = yaml.safe_load(DEFAULT_STAGES_FILE.read_text(encoding="utf-8"))
    document["stages"]["dev"].update(overrides)
    with pytest.raises(StageConfigError, match=named):
        parse_settings(document)


def test_dimse_settings_from_context() -> None:
    import yaml

    document = yaml.safe_load(DEFAULT_STAGES_FILE.read_text(encoding="utf-8"))
    dev = parse_settings(
        document,
        {
            "cloudpacs:dev:dimse_cpu": "1024",
            "cloudpacs:dev:dimse_memory": "3072",
            "cloudpacs:dev:dimse_ae_roles": '{"PACS": ["viewer", "technologist"]}',
            "cloudpacs:dev:dimse_move_destinations": '{"WS": "ws.example.org:104"}',
        },
    ).stages["dev"]
    assert (dev.dimse_cpu, dev.dimse_memory) == (1024, 3072)
    assert dev.dimse_ae_roles == {"PACS": ("viewer", "technologist")}
    assert dev.dimse_move_destinations["WS"].model_dump() == {
        "host": "ws.example.org",
        "port": 104,
        "tls": False,
    }
