"""The bridge's container image: ``dimse_bridge/Dockerfile`` built with the repository root as
its context, as a CDK image asset.

Synth only stages the build context into ``cdk.out`` and hashes it; Docker runs at
``cdk deploy``, which builds the image for the tasks' platform and pushes it to the
bootstrap repository. The context is an allow-list (Docker ignore syntax): only what the image
installs is staged, so the virtual environment, ``cdk.out``, the layer build and the tests
never slow synth nor change the image hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import IgnoreMode
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs

from stacks.api.assets import ROOT, AssetError

DOCKERFILE = "dimse_bridge/Dockerfile"
BUILD_CONTEXT = ("pyproject.toml", "layers/cloudpacs", "dimse_bridge")
"""What the image is built from; everything else in the repository stays out of the context."""
BUILD_CONTEXT_EXCLUDE = (
    "*",
    *(f"!{path}" for path in BUILD_CONTEXT),
    "**/__pycache__",
    "**/*.pyc",
)
PLATFORM = ecr_assets.Platform.LINUX_AMD64
CPU_ARCHITECTURE = ecs.CpuArchitecture.X86_64
"""x86-64: the image builds natively on common CI runners, without emulation."""


@dataclass(frozen=True)
class BridgeImage:
    context_dir: Path = ROOT
    dockerfile: str = DOCKERFILE

    def container_image(self) -> ecs.ContainerImage:
        if not (self.context_dir / self.dockerfile).is_file():
            raise AssetError(
                f"{self.context_dir / self.dockerfile} is missing: the DIMSE bridge image is "
                "built from it"
            )
        return ecs.ContainerImage.from_asset(
            str(self.context_dir),
            file=self.dockerfile,
            exclude=list(BUILD_CONTEXT_EXCLUDE),
            ignore_mode=IgnoreMode.DOCKER,
            platform=PLATFORM,
        )
