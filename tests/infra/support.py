"""Shared pieces of the infrastructure tests: the synthesized app and template helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_app.toolchain import use_project_node

use_project_node()  # before aws_cdk is imported anywhere in this session

from aws_cdk import App, cx_api  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from cdk_app.settings import AppSettings  # noqa: E402
from stacks.api.assets import PYTHON_VERSION, LambdaAssets  # noqa: E402

STAGES = ("dev", "staging", "prod")
KINDS = ("Storage", "Auth", "Api", "Monitoring")
FUNCTIONS = ("qido", "wado", "stow", "ingest", "deidentify", "research", "anonymize")
"""The API stack's functions."""
SCHEDULED = ("retention",)
"""Functions of their own stacks, run on a schedule."""
COMMIT = "0123456789abcdef0123456789abcdef01234567"
"""The source commit the app is synthesized for (context ``cloudpacs:commit``)."""


@dataclass(frozen=True)
class Synthesized:
    app: App
    assembly: cx_api.CloudAssembly
    settings: AppSettings

    def template_json(self, stage: str, kind: str) -> dict[str, Any]:
        stack = self.assembly.get_nested_assembly(f"assembly-{stage}").get_stack_by_name(
            f"cloudpacs-{stage}-{kind.lower()}"
        )
        loaded: dict[str, Any] = json.loads(Path(stack.template_full_path).read_text("utf-8"))
        return loaded

    def pipeline_json(self) -> dict[str, Any]:
        stack = self.assembly.get_stack_by_name("cloudpacs-pipeline")
        loaded: dict[str, Any] = json.loads(Path(stack.template_full_path).read_text("utf-8"))
        return loaded

    def template(self, stage: str, kind: str) -> Template:
        return Template.from_json(self.template_json(stage, kind))


def placeholder_assets(root: Path) -> LambdaAssets:
    for name in FUNCTIONS + SCHEDULED:
        folder = root / "functions" / name
        folder.mkdir(parents=True)
        (folder / "handler.py").write_text("def handler(event, context):\n    return None\n")
    layer = root / "layer"
    (layer / "python" / "cloudpacs").mkdir(parents=True)
    (layer / "python" / "cloudpacs" / "__init__.py").write_text("")
    manifest = {"hash": "placeholder", "arch": "arm64", "python_version": PYTHON_VERSION}
    (layer / "manifest.json").write_text(json.dumps(manifest))
    return LambdaAssets(functions_dir=root / "functions", layer_dir=layer)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def only(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = list(resources(template, kind).values())
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]
