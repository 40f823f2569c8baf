"""DIMSE stack: the bridge for modalities that speak only classic DICOM networking.

Modality → network load balancer (TCP 11112, only from the stage's DIMSE client networks) →
Fargate tasks in isolated subnets running ``python -m dimse_bridge`` → the same index, objects,
audit trail and events as the DICOMweb functions. The stack takes the stage's keys, audit log
and event bus as arguments and builds every other name from `StageNames`, like the API stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.dimse.container import BridgeTask, BridgeTls, bridge_environment
from stacks.dimse.image import BridgeImage
from stacks.dimse.load_balancer import DICOM_PORT, BridgeLoadBalancer
from stacks.dimse.network import BridgeNetwork, availability_zones
from stacks.dimse.permissions import TaskGrants, task_role
from stacks.dimse.service import BridgeService
from stacks.monitoring.bridge import BridgeAlarms, WatchedBridge
from stacks.names import StageNames


class DimseStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: StageNames,
        image: BridgeImage,
        data_key: kms.IKey,
        log_key: kms.IKey,
        audit_log_name: str,
        event_bus: events.IEventBus,
        vpc_cidr: str,
        client_cidrs: Sequence[str],
        internet_facing: bool,
        min_tasks: int,
        max_tasks: int,
        cpu: int,
        memory_mib: int,
        ae_roles: Mapping[str, object],
        move_destinations: Mapping[str, Mapping[str, Any]],
        tls: BridgeTls | None,
        log_retention_days: int,
        retain_logs: bool,
        deletion_protection: bool,
        **kwargs: Any,
    ) -> None:
        self._zones = availability_zones()
        super().__init__(scope, construct_id, **kwargs)
        stage = names.stage
        removal = RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY
        network = BridgeNetwork(
            self,
            "Network",
            stage=stage,
            cidr=vpc_cidr,
            internet_facing=internet_facing,
            tls=tls is not None,
            log_key=log_key,
            log_retention_days=log_retention_days,
            removal_policy=removal,
        )
        self.vpc = network.vpc
        self.load_balancer = BridgeLoadBalancer(
            self,
            "LoadBalancer",
            stage=stage,
            vpc=network.vpc,
            subnets=network.edge_subnets,
            internet_facing=internet_facing,
            client_cidrs=client_cidrs,
            deletion_protection=deletion_protection,
        )
        role = task_role(self, "TaskRole", stage=stage)
        grants = TaskGrants(role, names)
        grants.index()
        grants.objects()
        grants.key_use(data_key)
        grants.audit(audit_log_name)
        grants.publish_events(event_bus.event_bus_arn)
        acknowledge(
            role,
            "HIPAA.Security-IAMNoInlinePolicy",
            "The role's policy belongs to the bridge tasks alone and is generated from the "
            "grants in stacks/dimse/permissions.py; no user or group has one.",
        )
        environment = bridge_environment(
            names_env={
                "AWS_REGION": names.region,
                "CLOUDPACS_TABLE_NAME": names.table,
                "CLOUDPACS_BUCKET_NAME": names.dicom_bucket,
                "CLOUDPACS_AUDIT_LOG_GROUP": audit_log_name,
                "CLOUDPACS_EVENT_BUS_NAME": event_bus.event_bus_name,
            },
            ae_roles=ae_roles,
            move_destinations=move_destinations,
            tls=tls,
        )
        self.task = BridgeTask(
            self,
            "Task",
            stage=stage,
            image=image,
            task_role=role,
            cpu=cpu,
            memory_mib=memory_mib,
            environment=environment,
            tls=tls,
            log_key=log_key,
            log_retention_days=log_retention_days,
            removal_policy=removal,
        )
        self.service = BridgeService(
            self,
            "Bridge",
            stage=stage,
            vpc=network.vpc,
            subnets=network.task_subnets,
            task_definition=self.task.definition,
            load_balancer=self.load_balancer,
            move_targets=[(str(d["host"]), int(d["port"])) for d in move_destinations.values()],
            min_tasks=min_tasks,
            max_tasks=max_tasks,
        )
        self.watched = WatchedBridge(
            service=self.service.service,
            load_balancer=self.load_balancer.load_balancer,
            target_group=self.load_balancer.target_group,
        )
        self.alarms = BridgeAlarms(self, "Alarms", stage=stage, bridge=self.watched).alarms
        CfnOutput(
            self,
            "DimseEndpoint",
            description="Host and port modalities send to (called AE title: the bridge's)",
            value=f"{self.load_balancer.load_balancer.load_balancer_dns_name}:{DICOM_PORT}",
        )

    @property
    def availability_zones(self) -> list[str]:
        """Resolved by CloudFormation, not looked up at synth (see `availability_zones`)."""
        return self._zones
