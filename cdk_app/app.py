"""Build the CDK app: validated stage settings in, one Stage per configured stage out, with the
cdk-nag AwsSolutions and HIPAA Security packs checking every stack at synth."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from cdk_app.pipeline_settings import PipelineSettings
from cdk_app.settings import DEFAULT_STAGES_FILE, StageConfigError, load_settings
from cdk_app.stage import PLACEHOLDER_ACCOUNT, CloudPacsStage
from cloudpacs.viewer.package import DEFAULT_CACHE, ViewerCache
from stacks.api.assets import LambdaAssets
from stacks.dimse.image import BridgeImage
from stacks.pipeline.stack import PipelineStack

STAGES_FILE_CONTEXT = "cloudpacs:stagesFile"
COMMIT_CONTEXT = "cloudpacs:commit"
COMMIT_ENV = "CODEBUILD_RESOLVED_SOURCE_VERSION"
"""The commit CodeBuild checked out: the pipeline's synth step deploys exactly that one."""
COMMIT = re.compile(r"^[0-9A-Za-z._-]{1,40}$")
"""What the functions accept as ``CLOUDPACS_COMMIT`` (`cloudpacs.settings.Settings.commit`)."""
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags, stages file), for apps built outside the CLI."""
    context = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    return dict(context)


def build_app(
    *,
    assets: LambdaAssets | None = None,
    bridge_image: BridgeImage | None = None,
    viewer_dist: Path | None = None,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
) -> App:
    """The app with every configured stage; context also comes from cdk.json and ``-c``."""
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    all_context: dict[str, Any] = dict(app.node.get_all_context())
    stages_file = Path(all_context.get(STAGES_FILE_CONTEXT) or DEFAULT_STAGES_FILE)
    settings = load_settings(stages_file, all_context)
    commit = str(all_context.get(COMMIT_CONTEXT) or os.environ.get(COMMIT_ENV) or "unknown")
    if not COMMIT.match(commit):
        raise StageConfigError(f"{COMMIT_CONTEXT}: {commit!r} is not a commit id")
    stages = {
        name: CloudPacsStage(
            app,
            settings=stage_settings,
            assets=assets or LambdaAssets(),
            bridge_image=bridge_image or BridgeImage(),
            viewer_dist=viewer_dist if viewer_dist is not None else fetched_viewer(),
            commit=commit,
        )
        for name, stage_settings in settings.stages.items()
    }
    if settings.pipeline is not None:
        add_pipeline(app, settings.pipeline, stages)
    add_compliance_checks(app)
    return app


def fetched_viewer() -> Path | None:
    """The viewer ``cloudpacs viewer fetch`` cached in the repository, if it is there."""
    cache = ViewerCache(CDK_JSON.parent / DEFAULT_CACHE)
    return cache.dist if cache.available() else None


def add_pipeline(
    app: App, settings: PipelineSettings, stages: Mapping[str, CloudPacsStage]
) -> PipelineStack:
    """The delivery pipeline stack, deploying the app's own staging and production stages."""
    production = stages[settings.production_stage]
    account = settings.account or os.environ.get("CDK_DEFAULT_ACCOUNT") or PLACEHOLDER_ACCOUNT
    return PipelineStack(
        app,
        "Pipeline",
        stack_name="cloudpacs-pipeline",
        description="cloudpacs delivery pipeline: commit to staging to production",
        settings=settings,
        staging=stages[settings.staging_stage],
        production=production,
        env=Environment(account=account, region=settings.region or production.region),
        termination_protection=True,
    )


def add_compliance_checks(app: App) -> None:
    """Run cdk-nag's AwsSolutions and HIPAA Security packs over every stack at synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))
