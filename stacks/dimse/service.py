"""The bridge's ECS cluster and Fargate service, registered with the load balancer and scaled
on CPU between the stage's task bounds.

Deployments start new tasks before old ones stop (100 % to 200 %) and roll back when new tasks
do not become healthy. A task that is stopped (deployment, scale-in) first leaves the target
group, so the load balancer sends it no new associations, then gets SIGTERM and finishes the
ones in flight. The tasks' security group admits only the load balancer; outbound they may use
HTTPS (the VPC endpoints, as the subnets have no other route) and the C-MOVE destinations'
ports.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from stacks.dimse.load_balancer import BridgeLoadBalancer

CPU_TARGET_PERCENT = 60
HTTPS = 443


def _peer(host: str) -> ec2.IPeer:
    try:
        return ec2.Peer.ipv4(f"{ipaddress.IPv4Address(host)}/32")
    except ValueError:  # a host name: its address is only known at run time
        return ec2.Peer.any_ipv4()


class BridgeService(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        task_definition: ecs.FargateTaskDefinition,
        load_balancer: BridgeLoadBalancer,
        move_targets: Iterable[tuple[str, int]],
        min_tasks: int,
        max_tasks: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=f"cloudpacs-{stage}-dimse",
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"cloudpacs {stage} DIMSE bridge tasks",
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), "AWS APIs through the VPC endpoints"
        )
        for host, port in sorted(set(move_targets)):
            self.security_group.add_egress_rule(
                _peer(host), ec2.Port.tcp(port), f"C-MOVE destination {host}:{port}"
            )
        self.service = ecs.FargateService(
            self,
            "Service",
            service_name=f"cloudpacs-{stage}-dimse",
            cluster=self.cluster,
            task_definition=task_definition,
            vpc_subnets=subnets,
            security_groups=[self.security_group],
            assign_public_ip=False,
            platform_version=ecs.FargatePlatformVersion.LATEST,
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period=Duration.seconds(60),
            enable_execute_command=False,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
        )
        load_balancer.target_group.add_target(
            self.service.load_balancer_target(container_name="bridge")
        )
        load_balancer.admit(self.service)
        self.scaling = self.service.auto_scale_task_count(
            min_capacity=min_tasks, max_capacity=max_tasks
        )
        self.scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=CPU_TARGET_PERCENT,
            scale_out_cooldown=Duration.minutes(1),
            scale_in_cooldown=Duration.minutes(5),
        )
