"""Stage settings: invalid configuration stops synth with a message naming the setting."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest
import yaml

from cdk_app.settings import DEFAULT_STAGES_FILE, StageConfigError, parse_settings


@pytest.fixture
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEFAULT_STAGES_FILE.read_text(encoding="utf-8"))
    return loaded


def rejected(document: dict[str, Any], context: dict[str, Any] | None = None) -> str:
    with pytest.raises(StageConfigError) as info:
        parse_settings(document, context)
    return str(info.value)


def test_shipped_stages_are_valid_and_disjoint(document: dict[str, Any]) -> None:
    settings = parse_settings(document)
    assert list(settings.stages) == ["dev", "staging", "prod"]
    assert {str(s.vpc_cidr) for s in settings.stages.values()} == {
        "10.4.0.0/16",
        "10.20.0.0/16",
        "10.12.0.0/16",
    }
    prod = settings.stages["prod"]
    assert prod.production and prod.removal_policy == "retain" and prod.mfa_required


def test_overlapping_vpc_cidrs_name_both_settings(document: dict[str, Any]) -> None:
    document["stages"]["staging"]["vpc_cidr"] = "10.4.128.0/20"
    message = rejected(document)
    assert "stages.staging.vpc_cidr" in message and "stages.dev.vpc_cidr" in message


def test_production_must_retain_data(document: dict[str, Any]) -> None:
    message = rejected(document, {"cloudpacs:prod:removal_policy": "destroy"})
    assert "stages.prod" in message and "removal_policy" in message


def test_production_must_require_mfa(document: dict[str, Any]) -> None:
    assert "mfa_required" in rejected(document, {"cloudpacs:prod:mfa_required": "false"})


def test_production_refuses_wildcard_cors(document: dict[str, Any]) -> None:
    assert "cors_origins" in rejected(document, {"cloudpacs:prod:cors_origins": "*"})


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("log_retention_days", 31),
        ("vpc_cidr", "8.8.0.0/16"),
        ("dimse_client_cidrs", ["0.0.0.0/0"]),
        ("alarm_email", "not-an-address"),
        ("account", "12345"),
        ("region", "Frankfurt"),
        ("lambda_memory_mb", 64),
        ("waf_rate_limit", 5),
        ("viewer_callback_urls", ["http://viewer.example.org/callback"]),
        ("infrequent_access_after_days", 10),
        ("retention_days", 0),
        ("retention_hour_utc", 24),
        ("storage_tiering", "deep_archive"),
        ("colour", "blue"),
    ],
)
def test_invalid_setting_is_named(document: dict[str, Any], setting: str, value: Any) -> None:
    broken = deepcopy(document)
    broken["stages"]["dev"][setting] = value
    assert f"stages.dev.{setting}" in rejected(broken)


def test_glacier_after_infrequent_access(document: dict[str, Any]) -> None:
    document["stages"]["staging"]["glacier_instant_retrieval_after_days"] = 100
    assert "glacier_instant_retrieval_after_days" in rejected(document)


def test_one_lambda_architecture_for_all_stages(document: dict[str, Any]) -> None:
    document["stages"]["prod"]["lambda_architecture"] = "x86_64"
    assert "lambda_architecture" in rejected(document)


def test_context_overrides_single_values(document: dict[str, Any]) -> None:
    settings = parse_settings(
        document,
        {
            "cloudpacs:dev:account": "012345678901",
            "cloudpacs:dev:cors_origins": "https://a.example.org,http://localhost:8080",
            "cloudpacs:dev:waf_rate_limit": "500",
        },
    )
    dev = settings.stages["dev"]
    assert dev.account == "012345678901"  # a string: leading zeros survive
    assert dev.cors_origins == ("https://a.example.org", "http://localhost:8080")
    assert dev.waf_rate_limit == 500


def test_missing_stages_are_reported() -> None:
    assert "stages" in rejected({"defaults": {}})
