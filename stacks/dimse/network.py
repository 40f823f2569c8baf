"""The bridge's network: a VPC from the stage's ``vpc_cidr`` with no route to the internet.

The tasks run in isolated subnets of two availability zones. Everything they call is an AWS API
reached through VPC endpoints: S3 and DynamoDB (gateway endpoints, free, also serve the image
layers ECR keeps in S3), ECR and ECR's Docker registry (image pull), CloudWatch Logs (container
logs, audit trail), EventBridge (change events) and, with TLS, Secrets Manager (the
certificate). KMS needs no endpoint: S3 and DynamoDB call it on the bridge's behalf. So there is
no NAT gateway: a task handling patient data has no path to the internet at all, and four or
five interface endpoints cost about what two NAT gateways do, without NAT's per-GB charge.

Modalities and C-MOVE destinations are reached over the private link (VPN, Direct Connect or a
transit gateway) the operator attaches to this VPC. Only an internet-facing stage gets public
subnets, which hold nothing but the load balancer's nodes. Every flow is recorded in a flow log.
"""

from __future__ import annotations

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.log_retention import retention

AZ_COUNT = 2
TASK_SUBNETS = "bridge"
EDGE_SUBNETS = "edge"


def availability_zones(count: int = AZ_COUNT) -> list[str]:
    """The region's first zones, resolved by CloudFormation (``Fn::GetAZs``): no lookup at
    synth, so it needs no AWS account, and no zone name written into the template."""
    return [Fn.select(index, Fn.get_azs()) for index in range(count)]


class BridgeNetwork(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        cidr: str,
        internet_facing: bool,
        tls: bool,
        log_key: kms.IKey,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        subnets = [
            ec2.SubnetConfiguration(name=TASK_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ]
        if internet_facing:
            subnets.append(
                ec2.SubnetConfiguration(
                    name=EDGE_SUBNETS,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    map_public_ip_on_launch=False,
                )
            )
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            log_group_name=f"/cloudpacs/{stage}/dimse-vpc-flows",
            encryption_key=log_key,
            retention=retention(log_retention_days),
            removal_policy=removal_policy,
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=f"cloudpacs-{stage}-dimse",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=AZ_COUNT,
            subnet_configuration=subnets,
            nat_gateways=0,
            restrict_default_security_group=True,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        self.task_subnets = ec2.SubnetSelection(subnet_group_name=TASK_SUBNETS)
        self.edge_subnets = ec2.SubnetSelection(
            subnet_group_name=EDGE_SUBNETS if internet_facing else TASK_SUBNETS
        )
        services = {
            "Ecr": ec2.InterfaceVpcEndpointAwsService.ECR,
            "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
            "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
            "Events": ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
        }
        if tls:
            services["SecretsManager"] = ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER
        # One group for the endpoints, admitting HTTPS from the stage's range (written out, so
        # the rule reads as the CIDR rather than a reference to the VPC's attribute).
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description=f"cloudpacs {stage} DIMSE VPC endpoints: HTTPS from the VPC",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "AWS API calls from the bridge tasks"
        )
        self.endpoints = {
            name: self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=self.task_subnets,
                security_groups=[self.endpoint_security_group],
                open=False,
            )
            for name, service in services.items()
        }
        acknowledge(
            self.vpc,
            "HIPAA.Security-IAMNoInlinePolicy",
            "The flow log's role, made by CDK for the VPC Flow Logs service: it may only write "
            "to this VPC's flow log group.",
        )
        if internet_facing:
            acknowledge(
                self.vpc,
                "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
                "Only the public edge subnets route to the internet gateway, and they hold "
                "nothing but the load balancer's nodes, whose security group admits the "
                "configured DIMSE client networks alone; the task subnets have no such route.",
            )
