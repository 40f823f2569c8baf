"""Stage settings of the DIMSE bridge: who may reach it, how many tasks of what size, its TLS
certificate, and the AE whitelist it enforces (DESIGN.md §7).

Checked at synth, so that a configuration the bridge would refuse at start-up (an unknown role,
a C-MOVE destination without a port) or that Fargate would refuse (a CPU and memory pair it
does not offer) stops ``cdk synth`` instead of a deployment.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cloudpacs.security.ae_roles import AeRoleMap

TaskCount = Annotated[int, Field(ge=1, le=100)]

# Memory (MiB) that Fargate offers with each CPU size (Linux tasks).
FARGATE_MEMORY: dict[int, range] = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}


class MoveDestination(BaseModel):
    """Where the bridge sends instances for a C-MOVE to one destination AE title."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    tls: bool = False


class DimseStageSettings(BaseModel):
    """The ``dimse_*`` settings of a stage (mixed into `cdk_app.settings.StageSettings`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dimse_client_cidrs: tuple[IPv4Network, ...] = ()
    """Networks allowed to reach the DIMSE bridge on port 11112."""
    dimse_internet_facing: bool = False
    """False: the load balancer has private addresses only, reached over VPN or Direct
    Connect. True: it gets public addresses (still only for ``dimse_client_cidrs``)."""
    dimse_min_tasks: TaskCount = 1
    dimse_max_tasks: TaskCount = 2
    dimse_cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = 512
    """Fargate CPU units of one bridge task (1024 = one vCPU)."""
    dimse_memory: int = 1024
    """Memory of one bridge task in MiB; must be a size Fargate offers with ``dimse_cpu``."""
    dimse_tls_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")
    """Name of a Secrets Manager secret with the bridge's TLS certificate: a JSON object with
    ``cert`` and ``key`` (PEM), and ``ca`` (PEM) when client certificates are checked."""
    dimse_tls_client_certs: Literal["off", "optional", "required"] = "off"
    """Client certificates: not asked for, verified against ``ca`` when presented, or required."""
    dimse_ae_roles: dict[str, str | tuple[str, ...]] = Field(default_factory=dict)
    """Calling AE title pattern -> role(s), first match wins; a title matching none is refused."""
    dimse_move_destinations: dict[str, MoveDestination] = Field(default_factory=dict)
    """C-MOVE destination AE title -> ``host:port`` (or ``{host, port, tls}``)."""

    @field_validator("dimse_cpu", mode="before")
    @classmethod
    def _cpu_number(cls, value: Any) -> Any:
        """A context override arrives as text (``-c cloudpacs:dev:dimse_cpu=1024``)."""
        return int(value) if isinstance(value, str) and value.isdigit() else value

    @field_validator("dimse_ae_roles", mode="before")
    @classmethod
    def _roles_json(cls, value: Any) -> Any:
        return _json_object(value)

    @field_validator("dimse_move_destinations", mode="before")
    @classmethod
    def _destinations(cls, value: Any) -> Any:
        """JSON text from a context override; ``host:port`` shorthand for each destination."""
        value = _json_object(value)
        if not isinstance(value, dict):
            return value
        parsed: dict[str, Any] = {}
        for ae_title, target in value.items():
            if isinstance(target, str):
                host, sep, port = target.rpartition(":")
                if not sep or not host or not port.isdigit():
                    raise ValueError(f"{ae_title}: {target!r} is not host:port")
                target = {"host": host, "port": int(port)}
            parsed[str(ae_title)] = target
        return parsed

    @field_validator("dimse_client_cidrs")
    @classmethod
    def _no_open_dimse(cls, value: tuple[IPv4Network, ...]) -> tuple[IPv4Network, ...]:
        for network in value:
            if network.prefixlen == 0:
                raise ValueError("0.0.0.0/0 would expose the DIMSE port to the internet")
        return value

    @field_validator("dimse_ae_roles")
    @classmethod
    def _roles(cls, value: dict[str, str | tuple[str, ...]]) -> dict[str, str | tuple[str, ...]]:
        AeRoleMap.from_mapping(value)  # the bridge's own rules: unknown roles, shadowed rules
        return value

    @model_validator(mode="after")
    def _dimse_consistent(self) -> DimseStageSettings:
        offered = FARGATE_MEMORY[self.dimse_cpu]
        if self.dimse_memory not in offered:
            raise ValueError(
                f"dimse_memory {self.dimse_memory} MiB is not offered with dimse_cpu "
                f"{self.dimse_cpu}: {offered.start} to {offered.stop - 1} in steps of "
                f"{offered.step}"
            )
        if self.dimse_max_tasks < self.dimse_min_tasks:
            raise ValueError("dimse_max_tasks must be at least dimse_min_tasks")
        if self.dimse_tls_secret is None:
            if self.dimse_tls_client_certs != "off":
                raise ValueError("dimse_tls_client_certs needs dimse_tls_secret (with a ca)")
            if self.dimse_internet_facing:
                raise ValueError(
                    "dimse_internet_facing needs dimse_tls_secret: DICOM without TLS would "
                    "carry patient data in clear text over the internet"
                )
        return self


def _json_object(value: Any) -> Any:
    """A context override arrives as one string: a JSON object."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a JSON object") from None
    return value
