"""Synthesize every stage once per test session and hand out its templates.

The functions, the layer and the DIMSE bridge's build context are small placeholder folders made
here, not the real code: the assertions concern the infrastructure, not what the code does, and
the real layer (tens of MB, built by ``make layer`` from package registries) would only slow
every session with asset hashing. ``make synth`` uses the real folders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cdk_app.toolchain import use_project_node

use_project_node()  # jsii starts Node when aws_cdk is first imported: pin it before that

from cdk_app.app import COMMIT_CONTEXT, build_app  # noqa: E402
from cdk_app.settings import load_settings  # noqa: E402
from stacks.dimse.image import DOCKERFILE, BridgeImage  # noqa: E402
from tests.infra.support import COMMIT, Synthesized, placeholder_assets  # noqa: E402

BRIDGE_CONTEXT_FILES = {
    DOCKERFILE: "FROM python:3.11-slim\n",
    "pyproject.toml": "[project]\nname = 'placeholder'\n",
    "layers/cloudpacs/__init__.py": "",
    "dimse_bridge/__main__.py": "",
}
"""What the image is built from (a placeholder of each)."""
BRIDGE_CONTEXT_NOISE = (
    ".venv/bin/python",
    ".git/HEAD",
    "cdk.out/manifest.json",
    "layers/.build/python/big.so",
    "layers/build_layer.py",
    "tests/test_x.py",
    "dimse_bridge/__pycache__/x.cpython-311.pyc",
)
"""What the repository also holds and the build context must leave out."""


@pytest.fixture(scope="session")
def bridge_image(tmp_path_factory: pytest.TempPathFactory) -> BridgeImage:
    """A build context laid out like the repository's, with placeholder files."""
    context = tmp_path_factory.mktemp("bridge")
    for path, text in BRIDGE_CONTEXT_FILES.items():
        (context / path).parent.mkdir(parents=True, exist_ok=True)
        (context / path).write_text(text)
    for path in BRIDGE_CONTEXT_NOISE:
        (context / path).parent.mkdir(parents=True, exist_ok=True)
        (context / path).write_text("noise")
    return BridgeImage(context_dir=context)


VIEWER_FILES = {
    "index.html": "<!doctype html><title>OHIF</title>",
    "app-config.js": "window.config = {};  // the package's own, replaced at deploy",
    "app.bundle.js": "",
}
"""A stand-in for the fetched OHIF ``dist/``."""


@pytest.fixture(scope="session")
def viewer_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("viewer-dist")
    for name, text in VIEWER_FILES.items():
        (dist / name).write_text(text)
    return dist


@pytest.fixture(scope="session")
def synthesized(
    tmp_path_factory: pytest.TempPathFactory, bridge_image: BridgeImage, viewer_dist: Path
) -> Synthesized:
    root = tmp_path_factory.mktemp("cdk")
    app = build_app(
        assets=placeholder_assets(root),
        bridge_image=bridge_image,
        viewer_dist=viewer_dist,
        outdir=str(root / "cdk.out"),
        # Report cdk-nag findings in validation-report.json (checked by test_nag) instead of
        # raising, so the template tests still run and say what else is wrong.
        context={"@aws-cdk/core:failSynthOnValidationErrors": False, COMMIT_CONTEXT: COMMIT},
    )
    return Synthesized(app=app, assembly=app.synth(), settings=load_settings())
