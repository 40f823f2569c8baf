"""The bridge image's scan gate, run by the pipeline after the images are published:
``python -m stacks.pipeline.image_scan cdk.out --stage staging --stage prod --fail-at HIGH``.

The images are found in the stages' asset manifests (``*.assets.json``: the repository and
tag each image asset is published to), so the gate checks exactly what will be deployed. An
image without a scan gets one (ECR basic scanning; the CDK bootstrap repository does not scan
on push by itself); with Amazon Inspector enhanced scanning turned on for the registry, its
continuous findings are read the same way. The gate waits for each scan to complete and fails
(exit 1) when any finding is at or above the configured severity, listing the counts; a scan
that fails or does not finish fails it too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_app.pipeline_settings import SEVERITIES

WAIT_SECONDS = 600
POLL_SECONDS = 10


@dataclass(frozen=True, order=True)
class ImageRef:
    region: str
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.repository}:{self.tag} ({self.region})"


def images(assembly_dir: Path, stages: Iterable[str]) -> list[ImageRef]:
    """Every image asset destination of the stages' stacks."""
    found: set[ImageRef] = set()
    for stage in stages:
        folder = assembly_dir / f"assembly-{stage}"
        if not folder.is_dir():
            raise SystemExit(f"image_scan: {folder} is missing: synthesize the app first")
        for manifest in sorted(folder.glob("*.assets.json")):
            document = json.loads(manifest.read_text(encoding="utf-8"))
            for asset in document.get("dockerImages", {}).values():
                for destination in asset["destinations"].values():
                    found.add(
                        ImageRef(
                            destination["region"],
                            destination["repositoryName"],
                            destination["imageTag"],
                        )
                    )
    return sorted(found)


def blocking(counts: Mapping[str, int], fail_at: str) -> dict[str, int]:
    """The finding counts at or above ``fail_at`` (ECR's severities; UNDEFINED counts as
    INFORMATIONAL)."""
    worst = SEVERITIES[: SEVERITIES.index(fail_at) + 1]
    return {severity: counts[severity] for severity in worst if counts.get(severity)}


def scan_counts(ecr: Any, image: ImageRef, *, wait_seconds: float = WAIT_SECONDS) -> dict[str, int]:
    """The image's finding counts by severity, once its scan is complete."""
    image_id = {"imageTag": image.tag}
    deadline = time.monotonic() + wait_seconds
    started = False
    while True:
        try:
            result = ecr.describe_image_scan_findings(
                repositoryName=image.repository, imageId=image_id
            )
        except ecr.exceptions.ScanNotFoundException:
            if started:
                time.sleep(POLL_SECONDS)
            else:
                ecr.start_image_scan(repositoryName=image.repository, imageId=image_id)
                started = True
            continue
        status = result["imageScanStatus"]["status"]
        if status in ("COMPLETE", "ACTIVE"):
            counts: dict[str, int] = result["imageScanFindings"].get("findingSeverityCounts", {})
            return counts
        if status not in ("IN_PROGRESS", "PENDING"):
            description = result["imageScanStatus"].get("description", "")
            raise SystemExit(f"image_scan: the scan of {image} ended {status}: {description}")
        if time.monotonic() > deadline:
            raise SystemExit(f"image_scan: the scan of {image} did not finish in time")
        time.sleep(POLL_SECONDS)


def gate(clients: Mapping[str, Any], refs: Iterable[ImageRef], fail_at: str) -> list[str]:
    """Why the release must stop (empty: it may go on)."""
    problems = []
    for ref in refs:
        counts = scan_counts(clients[ref.region], ref)
        print(f"{ref}: {counts or 'no findings'}")
        bad = blocking(counts, fail_at)
        if bad:
            problems.append(f"{ref} has findings at or above {fail_at}: {bad}")
    return problems


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="image_scan", description=__doc__)
    parser.add_argument("assembly", type=Path, help="the synthesized cloud assembly (cdk.out)")
    parser.add_argument("--stage", action="append", required=True, help="a stage to check")
    parser.add_argument("--fail-at", choices=SEVERITIES, default="HIGH")
    args = parser.parse_args(argv)
    refs = images(args.assembly, args.stage)
    if not refs:
        print("image_scan: the stages publish no image", file=sys.stderr)
        return 1
    clients = {
        region: boto3.client("ecr", region_name=region) for region in {r.region for r in refs}
    }
    problems = gate(clients, refs, args.fail_at)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
