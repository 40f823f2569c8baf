"""The bridge image's scan gate (`stacks.pipeline.image_scan`): it finds the images the stages
publish in the synthesized assets manifests, has ECR scan them (moto stands in for ECR and
reports one HIGH finding for a scanned image), and stops the release at or above the
configured severity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stacks.pipeline.image_scan import ImageRef, blocking, gate, images, main
from tests.infra.support import Synthesized

REGION = "eu-central-1"
REPOSITORY = "cdk-hnb659fds-container-assets-000000000000-eu-central-1"


def test_images_are_read_from_the_stages_asset_manifests(synthesized: Synthesized) -> None:
    found = images(Path(synthesized.assembly.directory), ["staging", "prod"])
    assert len(found) == 1  # one bridge image, the same for both stages
    (image,) = found
    assert (image.region, image.repository) == (REGION, REPOSITORY)
    assert len(image.tag) == 64  # the asset's content hash


def test_blocking_counts_the_threshold_and_worse() -> None:
    counts = {"CRITICAL": 0, "HIGH": 2, "MEDIUM": 5, "INFORMATIONAL": 9}
    assert blocking(counts, "CRITICAL") == {}
    assert blocking(counts, "HIGH") == {"HIGH": 2}
    assert blocking(counts, "MEDIUM") == {"HIGH": 2, "MEDIUM": 5}


@pytest.fixture
def ecr(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName=REPOSITORY)
        yield client


def _push(ecr: Any, tag: str) -> ImageRef:
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": 2, "digest": "sha256:" + "a" * 64},
        "layers": [],
    }  # fmt: skip
    ecr.put_image(repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag=tag)
    return ImageRef(REGION, REPOSITORY, tag)


def test_gate_scans_an_unscanned_image_and_stops_at_high(ecr: Any) -> None:
    image = _push(ecr, "b" * 64)
    problems = gate({REGION: ecr}, [image], "HIGH")
    assert problems == [f"{image} has findings at or above HIGH: {{'HIGH': 1}}"]
    assert gate({REGION: ecr}, [image], "CRITICAL") == []


def test_command_fails_the_step_on_findings(
    ecr: Any, synthesized: Synthesized, capsys: pytest.CaptureFixture[str]
) -> None:
    (image,) = images(Path(synthesized.assembly.directory), ["staging", "prod"])
    _push(ecr, image.tag)
    args = [synthesized.assembly.directory, "--stage", "staging", "--stage", "prod"]
    assert main([*args, "--fail-at", "HIGH"]) == 1
    assert "findings at or above HIGH" in capsys.readouterr().err
    assert main([*args, "--fail-at", "CRITICAL"]) == 0
