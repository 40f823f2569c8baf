"""Where the Lambda code comes from: ``functions/<name>/`` and the layer built by ``make layer``.

The layer folder holds ``python/`` (the site-packages Lambda mounts at ``/opt/python``) and the
``manifest.json`` written by ``layers/build_layer.py``. Synth stops with a clear message when the
layer is missing or was built for another architecture or Python than the functions use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
PYTHON_VERSION = "3.11"
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}


class AssetError(RuntimeError):
    """Lambda code or layer is missing or does not fit the functions."""


@dataclass(frozen=True)
class LambdaAssets:
    functions_dir: Path = ROOT / "functions"
    layer_dir: Path = ROOT / "layers" / ".build"

    def function_code(self, name: str) -> lambda_.Code:
        folder = self.functions_dir / name
        if not folder.is_dir():
            raise AssetError(f"{folder} is missing: the {name} function has no code folder")
        return lambda_.Code.from_asset(str(folder), exclude=["__pycache__", "*.pyc"])

    def layer_code(self, architecture: str) -> lambda_.Code:
        manifest_path = self.layer_dir / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise AssetError(
                f"{manifest_path} is missing: build the layer first (make layer)"
            ) from None
        built = (manifest.get("arch"), manifest.get("python_version"))
        if built != (architecture, PYTHON_VERSION):
            raise AssetError(
                f"the layer in {self.layer_dir} is built for {built[0]} / Python {built[1]}, the "
                f"functions run on {architecture} / Python {PYTHON_VERSION}: rebuild it with "
                f"python layers/build_layer.py --arch {architecture}"
            )
        return lambda_.Code.from_asset(str(self.layer_dir), exclude=["manifest.json", ".tmp-*"])

    def core_layer(self, scope: Construct, architecture: str) -> lambda_.LayerVersion:
        """The shared layer as a ``CoreLayer`` of ``scope`` (each stack with functions has its
        own version of the one asset: an exported layer version cannot be replaced while
        another stack imports it)."""
        return lambda_.LayerVersion(
            scope,
            "CoreLayer",
            code=self.layer_code(architecture),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURES[architecture]],
            description=f"cloudpacs core and its runtime dependencies (Python {PYTHON_VERSION})",
        )
