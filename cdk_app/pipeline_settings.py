"""Settings of the delivery pipeline (``pipeline`` in ``cdk_app/stages.yaml``): where the source
comes from, which stage is tested before which is released, and the limits the checks enforce.

Checked at synth like the stage settings; the stage names are checked against ``stages`` by
`cdk_app.settings.AppSettings`, so a pipeline that names an unknown stage stops synth.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
SEVERITIES: tuple[Severity, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
"""Amazon ECR / Inspector finding severities, most severe first."""

CONNECTION_ARN = (
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:"
    r"connection/[0-9a-f-]{36}$"
)


class LoadTestLimits(BaseModel):
    """The bounded load test after the staging deployment (`cloudpacs load`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    users: Annotated[int, Field(ge=1, le=200)] = 4
    duration_seconds: Annotated[int, Field(ge=5, le=1800)] = 60
    max_error_rate: Annotated[float, Field(ge=0, le=1)] = 0.01
    max_p95_ms: Annotated[int, Field(ge=1)] = 2000


class PipelineSettings(BaseModel):
    """One pipeline per deployment: commit → checks → staging → approval → production."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    connection_arn: str = Field(pattern=CONNECTION_ARN)
    """The CodeStar / CodeConnections connection to the source repository (created and
    authorized once in the console, docs/deploy.md "Pipeline")."""
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    """``owner/name`` of the repository behind the connection."""
    branch: str = Field(default="main", min_length=1, max_length=255)
    account: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
    """Account of the pipeline; unset means the account of the credentials that deploy it."""
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
    """Region of the pipeline; unset means the production stage's region."""
    staging_stage: str = "staging"
    """Deployed first and checked (smoke test, load test)."""
    production_stage: str = "prod"
    """Deployed after the manual approval, with automatic rollback, and checked again."""
    approval_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    """Who is asked (through SNS) to approve a release to production."""
    image_scan_fail_at: Severity = "HIGH"
    """The bridge image's scan fails the release on a finding of this severity or worse."""
    load_test: LoadTestLimits = LoadTestLimits()
