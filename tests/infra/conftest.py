"""Synthesize every stage once per test session and hand out its templates.

The functions and the layer are small placeholder folders made here, not the real code: the
assertions concern the infrastructure, not what the code does, and the real layer (tens of MB,
built by ``make layer`` from package registries) would only slow every session with asset
hashing. ``make synth`` uses the real folders.
"""

from __future__ import annotations

import pytest

from cdk_app.toolchain import use_project_node

use_project_node()  # jsii starts Node when aws_cdk is first imported: pin it before that

from cdk_app.app import build_app  # noqa: E402
from cdk_app.settings import load_settings  # noqa: E402
from tests.infra.support import Synthesized, placeholder_assets  # noqa: E402


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    root = tmp_path_factory.mktemp("cdk")
    app = build_app(
        assets=placeholder_assets(root),
        outdir=str(root / "cdk.out"),
        # Report cdk-nag findings in validation-report.json (checked by test_nag) instead of
        # raising, so the template tests still run and say what else is wrong.
        context={"@aws-cdk/core:failSynthOnValidationErrors": False},
    )
    return Synthesized(app=app, assembly=app.synth(), settings=load_settings())
