"""Build the CDK app: validated stage settings in, one Stage per configured stage out, with the
cdk-nag AwsSolutions and HIPAA Security packs checking every stack at synth."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from cdk_app.settings import DEFAULT_STAGES_FILE, load_settings
from cdk_app.stage import CloudPacsStage
from stacks.api.assets import LambdaAssets
from stacks.dimse.image import BridgeImage

STAGES_FILE_CONTEXT = "cloudpacs:stagesFile"
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags, stages file), for apps built outside the CLI."""
    context = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    return dict(context)


def build_app(
    *,
    assets: LambdaAssets | None = None,
    bridge_image: BridgeImage | None = None,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
) -> App:
    """The app with every configured stage; context also comes from cdk.json and ``-c``."""
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    all_context: dict[str, Any] = dict(app.node.get_all_context())
    stages_file = Path(all_context.get(STAGES_FILE_CONTEXT) or DEFAULT_STAGES_FILE)
    settings = load_settings(stages_file, all_context)
    for stage_settings in settings.stages.values():
        CloudPacsStage(
            app,
            settings=stage_settings,
            assets=assets or LambdaAssets(),
            bridge_image=bridge_image or BridgeImage(),
        )
    add_compliance_checks(app)
    return app


def add_compliance_checks(app: App) -> None:
    """Run cdk-nag's AwsSolutions and HIPAA Security packs over every stack at synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))
