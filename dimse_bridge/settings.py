"""Settings of the DIMSE bridge: one typed model, validated once at start-up.

Values come from ``CLOUDPACS_DIMSE_*`` environment variables (mappings and lists as JSON),
then from the ``dimse:`` section of the YAML file named by ``CLOUDPACS_CONFIG`` (if any), then
the defaults. The storage backend, data folder and fsync policy are the core's
(``cloudpacs.settings.Settings``); only what DIMSE adds lives here.

Access (DESIGN.md §7): ``ae_roles`` maps calling AE titles (wildcards ``*`` and ``?``) to
roles of the permission matrix, first matching rule wins. Left unset, the bridge lets every
calling AE in as ``admin`` **only when bound to a loopback address** (the laptop case, like
``cloudpacs serve --auth none``); bound to any other address it refuses to start until
``ae_roles`` is configured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from cloudpacs.security.ae_roles import AeRoleMap
from cloudpacs.settings import is_loopback, validated

LOCAL_AE_ROLES: dict[str, str | list[str]] = {"*": "admin"}
"""The whitelist used when none is configured and the bridge listens on loopback only."""


class MoveDestination(BaseModel):
    """Where C-MOVE sends instances for one destination AE title."""

    host: str
    port: int = Field(ge=1, le=65535)
    tls: bool = False
    """Open the sub-association over TLS (with the bridge's CA and client certificate)."""

    @classmethod
    def parse(cls, value: Any) -> Any:
        """Accept ``"host:port"`` as a shorthand for ``{"host": ..., "port": ...}``."""
        if isinstance(value, str):
            host, sep, port = value.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"move destination {value!r}: expected 'host:port'")
            return {"host": host.strip("[]"), "port": int(port)}
        return value


class DimseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDPACS_DIMSE_", extra="ignore")

    ae_title: str = Field("CLOUDPACS", min_length=1, max_length=16)
    host: str = "127.0.0.1"
    port: int = Field(11112, ge=0, le=65535)
    """0 picks a free port (tests)."""

    ae_roles: dict[str, str | list[str]] | None = None
    """Calling AE title pattern -> role(s), in order; None: see the module docstring."""
    move_destinations: dict[str, MoveDestination] = Field(default_factory=dict)
    """C-MOVE destination AE title -> host, port (and TLS)."""

    max_associations: int = Field(10, ge=1)
    max_pdu: int = Field(1 << 20, ge=0)
    """Largest PDU the bridge accepts (bytes; 0: unlimited). Large PDUs mean fewer PDUs per
    object and less per-PDU work: 1 MiB makes a 0.5 MB CT image a single PDU."""
    acse_timeout: float = Field(30.0, gt=0)
    dimse_timeout: float = Field(60.0, gt=0)
    network_timeout: float = Field(60.0, gt=0)
    connection_timeout: float = Field(10.0, gt=0)
    """TCP connect timeout of C-MOVE sub-associations."""
    shutdown_grace: float = Field(30.0, ge=0)
    """Seconds in-flight associations get to finish on SIGTERM before they are aborted."""

    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    """CA bundle that signs client certificates (and C-MOVE destinations' certificates)."""
    tls_require_client_cert: bool = False

    @field_validator("ae_title")
    @classmethod
    def _ae_title(cls, value: str) -> str:
        title = value.strip(" ")
        if not title or "\\" in title or not title.isascii() or not title.isprintable():
            raise ValueError("an AE title is 1 to 16 printable ASCII characters, no backslash")
        return title

    @field_validator("move_destinations", mode="before")
    @classmethod
    def _destinations(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).strip(): MoveDestination.parse(v) for k, v in value.items()}
        return value

    @field_validator("ae_roles")
    @classmethod
    def _roles(cls, value: dict[str, str | list[str]] | None) -> Any:
        if value is not None:
            AeRoleMap.from_mapping(value)  # raises ValueError naming the bad rule
        return value

    @model_validator(mode="after")
    def _checks(self) -> DimseSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both tls_cert and tls_key")
        if self.tls_require_client_cert and (self.tls_cert is None or self.tls_ca is None):
            raise ValueError("tls_require_client_cert needs tls_cert, tls_key and tls_ca")
        if self.ae_roles is None and not is_loopback(self.host):
            raise ValueError(
                f"listening on {self.host} needs an AE whitelist: set "
                "CLOUDPACS_DIMSE_AE_ROLES (for example "
                '\'{"CT_SCANNER_*": "technologist", "WORKSTATION_*": "viewer"}\')'
            )
        return self

    @property
    def tls_enabled(self) -> bool:
        return self.tls_cert is not None

    def role_map(self) -> AeRoleMap:
        return AeRoleMap.from_mapping(
            self.ae_roles if self.ae_roles is not None else LOCAL_AE_ROLES
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
        return (init_settings, env_settings, _YamlSection(settings_cls))


class _YamlSection(PydanticBaseSettingsSource):
    """The ``dimse:`` mapping of the YAML file named by ``CLOUDPACS_CONFIG``."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        config_file = os.environ.get("CLOUDPACS_CONFIG")
        if not config_file:
            return {}
        with open(config_file, encoding="utf-8") as fh:
            document = yaml.safe_load(fh) or {}
        section = document.get("dimse") if isinstance(document, dict) else None
        return dict(section) if isinstance(section, dict) else {}


def load_dimse_settings(**overrides: Any) -> DimseSettings:
    """Build and validate the bridge settings; errors become one readable ``SettingsError``."""
    return validated(DimseSettings, "DIMSE", **overrides)
