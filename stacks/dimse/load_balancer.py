"""The network load balancer in front of the bridge: TCP 11112, only from the stage's DIMSE
client networks.

The load balancer passes TCP through, so TLS (and client certificates, which a load balancer
that terminated TLS could not hand on) stays end to end between modality and bridge. Its
security group admits port 11112 from each configured client network and nothing else, and may
only talk to the tasks on that port; the tasks admit only the load balancer's security group.
With no client network configured the load balancer exists but admits nobody.

The target group's health check opens a TCP connection to the DICOM port, the same test the
container's own health check makes; it requests no association, so it leaves no audit events
and needs no AE title or client certificate. Deregistration waits for associations in flight
before a task is stopped.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from stacks.acknowledge import acknowledge

DICOM_PORT = 11112
DEREGISTRATION_DELAY = Duration.seconds(120)


class BridgeLoadBalancer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        internet_facing: bool,
        client_cidrs: Sequence[str],
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"cloudpacs {stage} DIMSE load balancer: port {DICOM_PORT} from clients",
            allow_all_outbound=False,
        )
        for cidr in client_cidrs:
            self.security_group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(DICOM_PORT), f"DIMSE clients {cidr}"
            )
        self.load_balancer = elbv2.NetworkLoadBalancer(
            self,
            "Nlb",
            load_balancer_name=f"cloudpacs-{stage}-dimse",
            vpc=vpc,
            vpc_subnets=subnets,
            internet_facing=internet_facing,
            security_groups=[self.security_group],
            cross_zone_enabled=True,
            deletion_protection=deletion_protection,
        )
        self.target_group = elbv2.NetworkTargetGroup(
            self,
            "Targets",
            vpc=vpc,
            port=DICOM_PORT,
            protocol=elbv2.Protocol.TCP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=DEREGISTRATION_DELAY,
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.TCP,
                port=str(DICOM_PORT),
                interval=Duration.seconds(10),
                healthy_threshold_count=2,
                unhealthy_threshold_count=2,
            ),
        )
        self.listener = self.load_balancer.add_listener(
            "Dicom",
            port=DICOM_PORT,
            protocol=elbv2.Protocol.TCP,
            default_target_groups=[self.target_group],
        )
        reason = (
            "A TCP listener: network load balancers write access logs only for TLS listeners, "
            "and TLS stays end to end with the bridge. Connections are recorded in the VPC "
            "flow log, and every association and operation in the bridge's audit trail."
        )
        acknowledge(self.load_balancer, "AwsSolutions-ELB2", reason)
        acknowledge(self.load_balancer, "HIPAA.Security-ELBLoggingEnabled", reason)
        acknowledge(
            self.listener,
            "HIPAA.Security-ELBv2ACMCertificateRequired",
            "DICOM TLS ends at the bridge, not here: the listener passes TCP through so that "
            "the modality's client certificate reaches the bridge, which a TLS listener with "
            "an ACM certificate would terminate and drop.",
        )
        if not deletion_protection:
            acknowledge(
                self.load_balancer,
                "HIPAA.Security-ELBDeletionProtectionEnabled",
                "Deletion protection is on in production stages; this stage is torn down with "
                "cdk destroy, and the load balancer holds no data.",
            )

    def admit(self, targets: ec2.IConnectable) -> None:
        """Let the load balancer reach ``targets`` on the DICOM port (traffic and health checks)."""
        self.security_group.connections.allow_to(
            targets, ec2.Port.tcp(DICOM_PORT), "DIMSE load balancer to bridge tasks"
        )
