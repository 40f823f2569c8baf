"""One typed settings model for every runtime (local server, Lambda, DIMSE bridge).

Values come from ``CLOUDPACS_*`` environment variables, then from the YAML file named by
``CLOUDPACS_CONFIG`` (if any), then the defaults. Validated once, at start-up.
"""

from __future__ import annotations

import ipaddress
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from cloudpacs.security.cors import DEFAULT_EXPOSE, CorsPolicy
from cloudpacs.security.identity import DEFAULT_ROLES_CLAIM

if TYPE_CHECKING:
    from cloudpacs.deid.pixel_rules import PixelRules

DuplicatePolicy = Literal["reject", "replace", "ignore"]
ValidationMode = Literal["off", "warn", "reject"]
AuthMode = Literal["none", "oidc", "apigateway"]
"""``none``: no verification, loopback only; ``oidc``: bearer JWTs verified against a JWKS;
``apigateway``: claims of API Gateway's Cognito authorizer (the Lambda functions)."""
MiB = 1 << 20
REQUEST_ID_HEADER = "X-Request-Id"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only accepts connections from this host."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SettingsError(RuntimeError):
    """Settings are missing or invalid; the message names each offending setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDPACS_", extra="ignore")

    backend: Literal["embedded", "aws"] = "embedded"
    data_dir: Path = Path(".cloudpacs-data")
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    base_path: str = "/dicom-web"
    public_base_url: str | None = None
    """Absolute root of the DICOMweb service as clients see it (for RetrieveURL/BulkDataURI);
    by default taken from each request."""

    duplicate_policy: DuplicatePolicy = "reject"
    max_request_bytes: int = Field(512 * MiB, gt=0)
    qido_max_results: int = Field(1000, gt=0)
    ingest_workers: int = Field(4, ge=1, le=64)
    """Objects of one STOW request stored concurrently."""
    fsync: bool = True
    validation: ValidationMode = "off"
    """IOD check on ingest (``cloudpacs.validation``): ``off``, ``warn`` (store, warning
    0xB007) or ``reject`` (failure 0xA900)."""
    """Flush stored objects and the index to disk before acknowledging (embedded backend)."""
    viewer_cache_dir: Path = Path(".cloudpacs-viewer")
    """Where ``cloudpacs viewer fetch`` keeps the OHIF viewer that the local server serves."""

    retention_days: int | None = Field(None, ge=1, le=36500)
    """Studies into which nothing was stored for this many days are deleted by the retention
    job (``cloudpacs retention run``, the ``retention`` function); None: kept forever.
    Studies on legal hold are kept (docs/lifecycle.md)."""

    # AWS backend
    table_name: str | None = None
    bucket_name: str | None = None
    inbox_bucket_name: str | None = None
    aws_region: str | None = Field(default=None, validation_alias="AWS_REGION")
    inline_response_bytes: int = Field(4 * MiB, gt=0)
    """Largest WADO body answered inline in Lambda; larger ones are redirected to S3
    (docs/decisions/0001-large-wado-responses.md). Lambda's 6 MB response limit applies to the
    base64-encoded body, 4/3 of the bytes, so binary bodies must stay under 4.5 MiB."""
    presign_expiry_seconds: int = Field(300, gt=0, le=3600)

    # Large uploads through the inbox (DESIGN.md §5, docs/uploads.md)
    max_upload_bytes: int = Field(2048 * MiB, gt=0)
    """Largest object (or multipart/related body) accepted through ``POST /uploads``; ingest
    holds an upload in memory, so the ingest function's memory must be about twice this."""
    upload_part_bytes: int = Field(64 * MiB, ge=5 * MiB, le=5120 * MiB)
    """Uploads larger than this are split into presigned multipart parts of this size."""
    upload_url_expiry_seconds: int = Field(3600, gt=0, le=6 * 3600)
    """Lifetime of upload URLs: long enough to send every part of a large upload (a URL signed
    by a Lambda role also ends when the role's session does, after some hours)."""
    upload_expiry_days: int = Field(7, ge=1, le=365)
    """How long an upload's status stays readable after it is created."""
    ingest_max_receives: int = Field(3, ge=1)
    """Deliveries of an inbox message before SQS moves it to the dead-letter queue; the last
    failed attempt records the failure in the upload's status."""

    # Access control and audit (DESIGN.md §7, docs/auth.md)
    auth: AuthMode = "none"
    """Default: ``none`` for the embedded backend, ``apigateway`` for aws."""
    oidc_jwks_url: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_client_id: str | None = None
    oidc_roles_claim: str = DEFAULT_ROLES_CLAIM
    """Claim holding the group names (a dotted path such as ``realm_access.roles`` works);
    read from API Gateway's authorizer claims too."""
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Browser origins allowed to call the API (``CLOUDPACS_CORS_ALLOWED_ORIGINS``: a JSON
    list or comma-separated); empty: no cross-origin access."""
    cors_allow_credentials: bool = False
    """Bearer tokens travel in ``Authorization``, which needs no CORS credentials mode; turn
    on only for cookie-based clients (``*`` is then refused)."""
    audit_log_path: Path | None = None
    """Local audit trail (JSON lines); default ``<data_dir>/audit.jsonl``."""
    audit_log_group: str | None = None
    """CloudWatch Logs group of the audit trail (aws backend; required there)."""
    event_bus_name: str | None = None
    """EventBridge bus for change events (aws backend); unset: events are not published."""

    # De-identification and the research store (docs/deidentification.md)
    research_base_path: str = "/research/dicom-web"
    """DICOMweb root of the de-identified research copy (QIDO-RS and WADO-RS, read-only)."""
    research_table_name: str | None = None
    """Index table of the research copy (aws backend); unset: this process has no research
    store (the embedded backend always has one, under ``<data_dir>/research``)."""
    research_prefix: str = "research/"
    """Key prefix of the research copy's objects in the DICOM bucket (aws backend)."""
    deid_queue_url: str | None = None
    """SQS queue of de-identification tasks (aws backend); unset: no jobs are accepted here."""
    deid_secret_id: str | None = None
    """Secrets Manager secret holding the pseudonym key (aws backend: the anonymize function)."""
    deid_key_file: Path | None = None
    """The local pseudonym key; default ``<data_dir>/deid.key``, created (0600) on first use."""
    auto_deidentify_profile: str | None = None
    """A preset name: de-identify every ingested instance into the research store with it."""
    deid_max_receives: int = Field(3, ge=1)
    """Deliveries of a task before it counts as failed (SQS: before the dead-letter queue)."""
    job_record_days: int = Field(30, ge=1, le=365)
    """How long a de-identification job and its results stay readable."""
    deid_pixel_rules_file: Path | None = None
    """Pixel cleaning rules of the Clean Pixel Data Option (YAML); default: the packaged set
    (docs/deidentification.md). Checked at start-up."""
    deid_text_detector: bool = False
    """Clean Pixel Data: quarantine an instance whose cleaned pixels still show text (OCR,
    the ``ocr`` extra)."""
    commit: str = Field("unknown", pattern=r"^[0-9A-Za-z._-]{1,64}$")
    """Source commit of the deployed code (set by the stacks; shown in ``/health``)."""

    @model_validator(mode="before")
    @classmethod
    def _default_auth(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("auth") in (None, ""):
            return {**data, "auth": "apigateway" if data.get("backend") == "aws" else "none"}
        return data

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _aws_needs_names(self) -> Settings:
        if self.backend == "aws":
            missing = [
                f"CLOUDPACS_{name.upper()}"
                for name in ("table_name", "bucket_name", "audit_log_group")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError("the aws backend needs " + ", ".join(missing))
        for name in ("base_path", "research_base_path"):
            path = getattr(self, name)
            if not path.startswith("/") or path.endswith("/"):
                raise ValueError(f"{name} must start with '/' and not end with '/'")
        if self.research_base_path == self.base_path:
            raise ValueError("research_base_path must differ from base_path")
        return self

    @model_validator(mode="after")
    def _known_auto_profile(self) -> Settings:
        if self.auto_deidentify_profile is not None:
            from cloudpacs.deid.profile import Profile  # pydicom's code tables: load on demand

            if self.auto_deidentify_profile not in Profile.PRESETS:
                known = ", ".join(sorted(Profile.PRESETS))
                raise ValueError(
                    f"auto_deidentify_profile {self.auto_deidentify_profile!r} is not a preset "
                    f"({known})"
                )
        return self

    @model_validator(mode="after")
    def _pixel_cleaning_loads(self) -> Settings:
        # A rules file of one's own is checked at start (PixelRulesError, a ValueError, names
        # the line and the reason); the shipped rules are loaded where pixels are cleaned.
        if self.deid_pixel_rules_file is not None:
            self.pixel_rules()
        if self.deid_text_detector:
            from cloudpacs.deid.text_detector import OcrTextDetector

            OcrTextDetector.check_available()
        return self

    def pixel_rules(self) -> PixelRules:
        """The pixel cleaning rules in force (parsed once per process and path)."""
        from cloudpacs.deid.pixel_rules import load_rules

        return load_rules(self.deid_pixel_rules_file)

    @model_validator(mode="after")
    def _auth_is_complete(self) -> Settings:
        if self.auth == "none" and not is_loopback(self.host):
            raise ValueError(
                f"auth 'none' serves every caller as admin, so it is allowed only on a "
                f"loopback host (127.0.0.1, ::1), not {self.host!r}; use auth 'oidc'"
            )
        if self.auth == "oidc":
            missing = [
                f"CLOUDPACS_{name.upper()}"
                for name in ("oidc_jwks_url", "oidc_issuer")
                if not getattr(self, name)
            ]
            if not (self.oidc_audience or self.oidc_client_id):
                missing.append("CLOUDPACS_OIDC_AUDIENCE or CLOUDPACS_OIDC_CLIENT_ID")
            if missing:
                raise ValueError("auth 'oidc' needs " + ", ".join(missing))
            assert self.oidc_jwks_url is not None
            _check_jwks_url(self.oidc_jwks_url)
        self.cors_policy()  # raises ValueError on a malformed origin or '*' with credentials
        return self

    @property
    def deid_key_path(self) -> Path:
        """Where the local pseudonym key is kept."""
        return self.deid_key_file or self.data_dir / "deid.key"

    def research_public_base_url(self) -> str | None:
        """The research root as clients see it, when the DICOMweb root is configured."""
        if self.public_base_url is None:
            return None
        root = self.public_base_url.rstrip("/").removesuffix(self.base_path)
        return root + self.research_base_path

    @property
    def audit_file(self) -> Path:
        """Where the local audit trail is appended."""
        return self.audit_log_path or self.data_dir / "audit.jsonl"

    def cors_policy(self) -> CorsPolicy:
        """The CORS policy of the API: the local server and API Gateway answer with it."""
        return CorsPolicy(
            tuple(self.cors_allowed_origins),
            allow_credentials=self.cors_allow_credentials,
            expose_headers=(*DEFAULT_EXPOSE, REQUEST_ID_HEADER),
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("CLOUDPACS_CONFIG")
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


M = TypeVar("M", bound=BaseSettings)


def validated(model: type[M], what: str, **overrides: Any) -> M:
    """Build and validate a settings model, turning validation errors into one message."""
    try:
        return model(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"{where}: {err['msg']}")
        raise SettingsError(f"invalid {what} settings: " + "; ".join(problems)) from None


def load_settings(**overrides: Any) -> Settings:
    """Build and validate settings, turning validation errors into one readable message."""
    return validated(Settings, "cloudpacs", **overrides)


def _check_jwks_url(url: str) -> None:
    """Signing keys must come over TLS, except from this host (tests, a local provider)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return
    raise ValueError(f"oidc_jwks_url must be an https URL (http only on loopback): {url!r}")


@lru_cache(maxsize=1)
def settings_from_environment() -> Settings:
    """Settings of this process, read once (Lambda cold start, bridge start-up)."""
    return load_settings()
