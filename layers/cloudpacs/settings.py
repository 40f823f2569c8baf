"""One typed settings model for every runtime (local server, Lambda, DIMSE bridge).

Values come from ``CLOUDPACS_*`` environment variables, then from the YAML file named by
``CLOUDPACS_CONFIG`` (if any), then the defaults. Validated once, at start-up.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DuplicatePolicy = Literal["reject", "replace", "ignore"]
MiB = 1 << 20


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
    fsync: bool = True
    """Flush stored objects and the index to disk before acknowledging (embedded backend)."""

    # AWS backend
    table_name: str | None = None
    bucket_name: str | None = None
    inbox_bucket_name: str | None = None
    aws_region: str | None = Field(default=None, validation_alias="AWS_REGION")
    inline_response_bytes: int = Field(5 * MiB, gt=0)
    """Largest WADO body answered inline in Lambda; larger ones are redirected or streamed."""
    presign_expiry_seconds: int = Field(300, gt=0, le=3600)

    @model_validator(mode="after")
    def _aws_needs_names(self) -> Settings:
        if self.backend == "aws":
            missing = [
                f"CLOUDPACS_{name.upper()}"
                for name in ("table_name", "bucket_name")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError("the aws backend needs " + ", ".join(missing))
        if not self.base_path.startswith("/") or self.base_path.endswith("/"):
            raise ValueError("base_path must start with '/' and not end with '/'")
        return self

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


def load_settings(**overrides: Any) -> Settings:
    """Build and validate settings, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"{where}: {err['msg']}")
        raise SettingsError("invalid cloudpacs settings: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def settings_from_environment() -> Settings:
    """Settings of this process, read once (Lambda cold start, bridge start-up)."""
    return load_settings()
