"""Bad pipeline settings stop synth (``python -m cdk_app``, what ``make synth`` and the
pipeline's own synth step run) with a message naming the setting."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdk_app import app as app_module
from cdk_app.__main__ import main as synth
from cdk_app.app import COMMIT_CONTEXT, STAGES_FILE_CONTEXT, build_app, cdk_json_context
from cdk_app.settings import DEFAULT_STAGES_FILE, StageConfigError, parse_settings

SHIPPED: dict[str, Any] = yaml.safe_load(DEFAULT_STAGES_FILE.read_text(encoding="utf-8"))


def _synth_fails(
    document: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:  # fmt: skip
    stages_file = tmp_path / "stages.yaml"
    stages_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    # As `cdk synth -c cloudpacs:stagesFile=...` would (the jsii process cannot see
    # environment variables set after it started, so the context comes in through cdk.json's).
    context = {**cdk_json_context(), STAGES_FILE_CONTEXT: str(stages_file)}
    monkeypatch.setattr(app_module, "cdk_json_context", lambda: context)
    assert synth() == 1
    return capsys.readouterr().err


@pytest.fixture
def document() -> dict[str, Any]:
    return deepcopy(SHIPPED)


def test_missing_connection_arn_fails_synth(
    document: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    del document["pipeline"]["connection_arn"]
    error = _synth_fails(document, tmp_path, monkeypatch, capsys)
    assert "pipeline.connection_arn: Field required" in error


def test_unknown_stage_fails_synth(
    document: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    document["pipeline"]["production_stage"] = "production"
    error = _synth_fails(document, tmp_path, monkeypatch, capsys)
    assert "pipeline.production_stage: 'production' is not a stage (dev, staging, prod)" in error


def test_overlapping_stage_cidrs_fail_synth(
    document: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    document["stages"]["prod"]["vpc_cidr"] = "10.20.64.0/18"
    error = _synth_fails(document, tmp_path, monkeypatch, capsys)
    assert (
        "stages.prod.vpc_cidr 10.20.64.0/18 overlaps stages.staging.vpc_cidr 10.20.0.0/16" in error
    )


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("connection_arn", "arn:aws:iam::000000000000:role/x", "pipeline.connection_arn"),
        ("staging_stage", "prod", "must differ"),
        ("production_stage", "dev", "pipeline.production_stage: stage 'dev' is not marked"),
        ("image_scan_fail_at", "SEVERE", "pipeline.image_scan_fail_at"),
        ("repository", "no-owner", "pipeline.repository"),
    ],
)
def test_invalid_pipeline_settings_are_named(
    document: dict[str, Any], setting: str, value: str, message: str
) -> None:
    document["pipeline"][setting] = value
    with pytest.raises(StageConfigError, match=message):
        parse_settings(document)


def test_context_overrides_a_pipeline_setting(document: dict[str, Any]) -> None:
    arn = (
        "arn:aws:codestar-connections:eu-west-1:123456789012:connection/" + "a" * 8 + "-" + "b" * 27
    )
    settings = parse_settings(document, {"cloudpacs:pipeline:connection_arn": arn})
    assert settings.pipeline is not None and settings.pipeline.connection_arn == arn


def test_a_deployment_without_pipeline_has_none(document: dict[str, Any]) -> None:
    del document["pipeline"]
    assert parse_settings(document).pipeline is None


def test_a_malformed_commit_stops_synth() -> None:
    """It becomes the functions' CLOUDPACS_COMMIT, which they validate at start."""
    with pytest.raises(StageConfigError, match="cloudpacs:commit"):
        build_app(context={COMMIT_CONTEXT: "main; rm -rf /"})
