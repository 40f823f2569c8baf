"""The bridge's task definition: one container from the bridge image, configured through
``CLOUDPACS_*`` and ``CLOUDPACS_DIMSE_*`` environment variables, logging to its own encrypted
log group.

TLS: the certificate, key and CA come from one Secrets Manager secret (JSON fields ``cert``,
``key``, ``ca``). ECS injects the fields into the container as environment variables when the
task starts (so they never appear in the template or the task definition); the bridge reads
certificates from files, so a short start script writes them to ``/tmp/tls`` (mode 0600,
inside the task's encrypted ephemeral storage), removes the variables from its environment and
then runs ``python -m dimse_bridge``. Without TLS the image's own command runs unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.dimse.image import CPU_ARCHITECTURE, BridgeImage
from stacks.dimse.load_balancer import DICOM_PORT
from stacks.log_retention import retention

TLS_DIR = "/tmp/tls"
"""In the task's own ephemeral storage (encrypted by Fargate), written once at start."""
STOP_TIMEOUT = Duration.seconds(120)  # the longest Fargate allows
SHUTDOWN_GRACE_SECONDS = 90
"""Associations in flight get this long after SIGTERM, inside the stop timeout."""
HEALTH_CHECK = ["CMD", "python", "-m", "dimse_bridge.healthcheck"]
_FIELDS = {"cert": "TLS_CERT_PEM", "key": "TLS_KEY_PEM", "ca": "TLS_CA_PEM"}


@dataclass(frozen=True)
class BridgeTls:
    secret_name: str
    client_certs: Literal["off", "optional", "required"] = "off"

    @property
    def fields(self) -> tuple[str, ...]:
        return ("cert", "key") if self.client_certs == "off" else ("cert", "key", "ca")

    def environment(self) -> dict[str, str]:
        """Where the bridge finds the files the start script writes."""
        env = {f"CLOUDPACS_DIMSE_TLS_{field.upper()}": self.path(field) for field in self.fields}
        if self.client_certs == "required":
            env["CLOUDPACS_DIMSE_TLS_REQUIRE_CLIENT_CERT"] = "true"
        return env

    @staticmethod
    def path(field: str) -> str:
        return f"{TLS_DIR}/{field}.pem"

    def start_script(self) -> str:
        lines = ["set -eu", "umask 077", f"mkdir -p {TLS_DIR}"]
        lines += [f"printf '%s\\n' \"${_FIELDS[f]}\" > {self.path(f)}" for f in self.fields]
        lines += ["unset " + " ".join(_FIELDS[f] for f in self.fields)]
        lines += ["exec python -m dimse_bridge"]
        return "\n".join(lines)


def bridge_environment(
    *,
    names_env: Mapping[str, str],
    ae_roles: Mapping[str, object],
    move_destinations: Mapping[str, Mapping[str, object]],
    tls: BridgeTls | None,
) -> dict[str, str]:
    """The bridge's settings (``dimse_bridge/settings.py``) and the core's AWS backend names."""
    return {
        "CLOUDPACS_BACKEND": "aws",
        **names_env,
        # Every interface of the task: the security groups decide who may connect.
        "CLOUDPACS_DIMSE_HOST": "0.0.0.0",
        "CLOUDPACS_DIMSE_PORT": str(DICOM_PORT),
        "CLOUDPACS_DIMSE_AE_ROLES": json.dumps(dict(ae_roles)),
        "CLOUDPACS_DIMSE_MOVE_DESTINATIONS": json.dumps(
            {ae: dict(target) for ae, target in move_destinations.items()}
        ),
        "CLOUDPACS_DIMSE_SHUTDOWN_GRACE": str(SHUTDOWN_GRACE_SECONDS),
        **(tls.environment() if tls else {}),
    }


class BridgeTask(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        image: BridgeImage,
        task_role: iam.IRole,
        cpu: int,
        memory_mib: int,
        environment: Mapping[str, str],
        tls: BridgeTls | None,
        log_key: kms.IKey,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/cloudpacs/{stage}/dimse",
            encryption_key=log_key,
            retention=retention(log_retention_days),
            removal_policy=removal_policy,
        )
        self.definition = ecs.FargateTaskDefinition(
            self,
            "Definition",
            family=f"cloudpacs-{stage}-dimse",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=CPU_ARCHITECTURE,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            task_role=task_role,
        )
        secrets: dict[str, ecs.Secret] = {}
        start: dict[str, list[str]] = {}
        if tls is not None:
            secret = secretsmanager.Secret.from_secret_name_v2(self, "TlsSecret", tls.secret_name)
            secrets = {
                _FIELDS[field]: ecs.Secret.from_secrets_manager(secret, field)
                for field in tls.fields
            }
            start = {"entry_point": ["/bin/sh", "-c"], "command": [tls.start_script()]}
        self.container = self.definition.add_container(
            "Bridge",
            container_name="bridge",
            image=image.container_image(),
            essential=True,
            environment=dict(environment),
            secrets=secrets,
            port_mappings=[ecs.PortMapping(container_port=DICOM_PORT, protocol=ecs.Protocol.TCP)],
            health_check=ecs.HealthCheck(
                command=HEALTH_CHECK,
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(30),
            ),
            stop_timeout=STOP_TIMEOUT,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="bridge",
                log_group=self.log_group,
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
                max_buffer_size=Size.mebibytes(25),
            ),
            **start,  # type: ignore[arg-type]
        )
        self._acknowledge()

    def _acknowledge(self) -> None:
        acknowledge(
            self.definition,
            "AwsSolutions-ECS2",
            "The environment holds only names (table, bucket, log group, event bus), the AE "
            "whitelist and limits; the TLS key and certificates come from Secrets Manager.",
        )
        execution_role = self.definition.obtain_execution_role()
        acknowledge(
            execution_role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, which ECS needs to pull the bridge image, supports no "
            "resource-level permissions; the pull actions themselves name the one repository.",
        )
        acknowledge(
            execution_role,
            "HIPAA.Security-IAMNoInlinePolicy",
            "The execution role's policy is generated by ECS for this one task definition "
            "(image pull, its log group, its TLS secret); nothing else can attach it.",
        )
