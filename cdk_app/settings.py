"""Stage settings: one validated model per deployment stage, read from ``cdk_app/stages.yaml``.

The YAML file has a ``defaults`` mapping merged under each entry of ``stages``; CDK context keys
``cloudpacs:<stage>:<setting>`` (``cdk synth -c cloudpacs:dev:account=123456789012``) override
single values. Every problem is reported with the setting it belongs to, for example
``stages.staging.vpc_cidr: 10.4.0.0/20 overlaps stages.dev.vpc_cidr 10.4.0.0/16``, so a bad
configuration stops ``cdk synth`` before anything is deployed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from ipaddress import IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cdk_app.dimse_settings import DimseStageSettings
from cdk_app.pipeline_settings import PipelineSettings

DEFAULT_STAGES_FILE = Path(__file__).with_name("stages.yaml")
CONTEXT_PREFIX = "cloudpacs:"

# The retention periods CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")

Days = Annotated[int, Field(ge=1, le=36500)]


class StageConfigError(ValueError):
    """The stage configuration is invalid; the message names every offending setting."""


class StageSettings(DimseStageSettings):
    """Everything that differs between two deployments of cloudpacs (the ``dimse_*`` settings
    are in `cdk_app.dimse_settings`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9]{1,11}$")
    production: bool = False
    """Production stages must keep data on removal, require MFA and allow no wildcard origins."""

    account: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
    """AWS account id; unset means the account of the credentials that deploy the stage."""
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
    vpc_cidr: IPv4Network
    """Address range of the stage's VPC (the DIMSE bridge); disjoint from every other stage."""

    removal_policy: Literal["retain", "destroy"] = "retain"
    log_retention_days: int = 365
    audit_log_retention_days: int = 2192
    backup_retention_days: Days = 35
    """Retention of the index's daily AWS Backup snapshots; its point-in-time recovery window
    is the same number of days, at most 35 (the DynamoDB limit)."""
    storage_tiering: Literal["transitions", "intelligent_tiering"] = "transitions"
    """How DICOM objects get cheaper with age (docs/lifecycle.md): ``transitions`` moves them
    to Standard-IA and Glacier Instant Retrieval after the two settings below;
    ``intelligent_tiering`` hands them to S3 Intelligent-Tiering at once (the two are unused)."""
    infrequent_access_after_days: Annotated[int, Field(ge=30)] = 90
    glacier_instant_retrieval_after_days: Days | None = 365
    retention_days: Days | None = None
    """Studies into which nothing was stored for this many days are deleted by the daily
    retention job (stack ``cloudpacs-<stage>-retention``); None: kept forever, no job."""
    retention_hour_utc: Annotated[int, Field(ge=0, le=23)] = 2
    """The hour (UTC) the retention job runs each day."""
    noncurrent_version_expiry_days: Days = 90
    inbox_expiry_days: Annotated[int, Field(ge=1, le=30)] = 2
    access_log_expiry_days: Days = 365

    alarm_email: str
    cors_origins: tuple[str, ...] = ()
    viewer_callback_urls: tuple[str, ...] = ()

    waf_rate_limit: Annotated[int, Field(ge=10, le=2_000_000_000)] = 2000
    """Requests per client IP in any 5-minute window before WAF blocks it."""
    api_rate_limit: Annotated[int, Field(ge=1, le=10_000)] = 100
    api_burst_limit: Annotated[int, Field(ge=1, le=5_000)] = 200
    auto_deidentify: bool = False
    """De-identify every ingested instance into the research store automatically."""
    auto_deidentify_profile: str = "basic"
    """The preset automatic de-identification applies (docs/deidentification.md)."""

    mfa_required: bool = True
    cognito_plus_tier: bool = False
    """Cognito Plus feature plan: threat protection (compromised credentials, adaptive auth)."""

    lambda_architecture: Literal["arm64", "x86_64"] = "arm64"
    lambda_memory_mb: Annotated[int, Field(ge=128, le=10240)] = 1024
    lambda_timeout_seconds: Annotated[int, Field(ge=3, le=29)] = 29
    """API functions: API Gateway gives up after 29 s, so a longer timeout buys nothing."""
    ingest_timeout_seconds: Annotated[int, Field(ge=10, le=900)] = 300
    lambda_tracing: bool = True
    """X-Ray active tracing of the functions. Off: no traces, and each cold start skips the
    X-Ray SDK's import (about 0.1 s, docs/benchmarks.md)."""
    lambda_deployment: Literal["canary", "all_at_once"] = "all_at_once"
    """How CodeDeploy shifts the API functions' ``live`` aliases to a new version: ``canary``
    sends 10 % of requests to it for 15 minutes first; both roll back on the API's alarms."""

    @field_validator("cors_origins", "viewer_callback_urls", "dimse_client_cidrs", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        """A context override arrives as one string: ``a,b`` means two entries."""
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("log_retention_days", "audit_log_retention_days")
    @classmethod
    def _cloudwatch_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in sorted(LOG_RETENTION_DAYS))
            raise ValueError(f"{value} is not a CloudWatch Logs retention ({allowed})")
        return value

    @field_validator("auto_deidentify_profile")
    @classmethod
    def _preset(cls, value: str) -> str:
        from cloudpacs.deid.profile import Profile

        if value not in Profile.PRESETS:
            known = ", ".join(sorted(Profile.PRESETS))
            raise ValueError(f"{value!r} is not a de-identification preset ({known})")
        return value

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _private_vpc(cls, value: IPv4Network) -> IPv4Network:
        if not value.is_private or not 16 <= value.prefixlen <= 24:
            raise ValueError(f"{value} must be a private range between /16 and /24")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
        return value

    @field_validator("viewer_callback_urls")
    @classmethod
    def _callbacks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            parts = urlsplit(url)
            secure = parts.scheme == "https" and bool(parts.hostname)
            loopback = parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1")
            if not (secure or loopback):
                raise ValueError(f"{url!r}: callback URLs must use https (http only on localhost)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StageSettings:
        glacier = self.glacier_instant_retrieval_after_days
        if glacier is not None and glacier < self.infrequent_access_after_days + 30:
            raise ValueError(
                "glacier_instant_retrieval_after_days must be at least 30 days after "
                "infrequent_access_after_days (S3 keeps objects 30 days in Standard-IA)"
            )
        for network in self.dimse_client_cidrs:
            if network.overlaps(self.vpc_cidr):
                raise ValueError(
                    f"dimse_client_cidrs {network} overlaps vpc_cidr {self.vpc_cidr}: clients "
                    "reach the bridge from outside the stage's VPC"
                )
        if self.production:
            if self.removal_policy != "retain":
                raise ValueError("removal_policy must be 'retain' in a production stage")
            if not self.mfa_required:
                raise ValueError("mfa_required must be true in a production stage")
            if "*" in self.cors_origins:
                raise ValueError("cors_origins must not contain '*' in a production stage")
            if any(not url.startswith("https://") for url in self.viewer_callback_urls):
                raise ValueError("viewer_callback_urls must all use https in a production stage")
        return self


class AppSettings(BaseModel):
    """All stages of one deployment; settings that concern several stages are checked here."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stages: dict[str, StageSettings]
    pipeline: PipelineSettings | None = None
    """The delivery pipeline (`cdk_app.pipeline_settings`); None: stages are deployed by hand."""

    @model_validator(mode="after")
    def _disjoint_cidrs(self) -> AppSettings:
        seen: list[StageSettings] = []
        for stage in self.stages.values():
            for other in seen:
                if stage.vpc_cidr.overlaps(other.vpc_cidr):
                    raise ValueError(
                        f"stages.{stage.name}.vpc_cidr {stage.vpc_cidr} overlaps "
                        f"stages.{other.name}.vpc_cidr {other.vpc_cidr}; stage VPCs must be "
                        "disjoint for VPN and peering"
                    )
            seen.append(stage)
        return self

    @model_validator(mode="after")
    def _pipeline_stages(self) -> AppSettings:
        if self.pipeline is None:
            return self
        known = ", ".join(self.stages)
        for setting in ("staging_stage", "production_stage"):
            name = getattr(self.pipeline, setting)
            if name not in self.stages:
                raise ValueError(f"pipeline.{setting}: {name!r} is not a stage ({known})")
        if self.pipeline.staging_stage == self.pipeline.production_stage:
            raise ValueError("pipeline.staging_stage and pipeline.production_stage must differ")
        if not self.stages[self.pipeline.production_stage].production:
            raise ValueError(
                f"pipeline.production_stage: stage {self.pipeline.production_stage!r} is not "
                "marked production: true"
            )
        return self

    @model_validator(mode="after")
    def _one_architecture(self) -> AppSettings:
        architectures = {stage.lambda_architecture for stage in self.stages.values()}
        if len(architectures) > 1:
            raise ValueError(
                "lambda_architecture must be the same in every stage: the one layer in "
                f"layers/.build is built for one architecture (got {sorted(architectures)})"
            )
        return self


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def _context_overrides(context: Mapping[str, Any], stage: str) -> dict[str, Any]:
    prefix = f"{CONTEXT_PREFIX}{stage}:"
    return {key[len(prefix) :]: value for key, value in context.items() if key.startswith(prefix)}


def parse_settings(
    document: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> AppSettings:
    """Validate a stages document (the YAML structure) with optional context overrides."""
    defaults = dict(document.get("defaults") or {})
    stages_raw = document.get("stages")
    unknown = set(document) - {"defaults", "stages", "pipeline"}
    if unknown:
        raise StageConfigError(
            f"unknown top-level keys {sorted(unknown)}: use defaults, stages, pipeline"
        )
    if not isinstance(stages_raw, Mapping) or not stages_raw:
        raise StageConfigError("stages: at least one stage must be configured")
    stages: dict[str, Any] = {}
    for name, values in stages_raw.items():
        merged = {**defaults, **dict(values or {}), "name": name}
        merged.update(_context_overrides(context or {}, name))
        stages[name] = merged
    pipeline: Any = document.get("pipeline")
    if pipeline is not None:
        pipeline = {**dict(pipeline), **_context_overrides(context or {}, "pipeline")}
    try:
        return AppSettings(stages=stages, pipeline=pipeline)
    except ValidationError as exc:
        raise StageConfigError("invalid stage settings: " + _describe(exc)) from None


def load_settings(
    path: Path = DEFAULT_STAGES_FILE, context: Mapping[str, Any] | None = None
) -> AppSettings:
    """Read and validate the stages file; raise `StageConfigError` naming what is wrong."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StageConfigError(f"cannot read stage settings from {path}: {exc}") from None
    if not isinstance(document, Mapping):
        raise StageConfigError(f"{path}: expected a mapping with 'defaults' and 'stages'")
    return parse_settings(document, context)
