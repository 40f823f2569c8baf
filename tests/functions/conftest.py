"""The Lambda handlers against moto (DESIGN.md §5: moto cannot run Lambda code without Docker,
so the handlers are called directly with real-shaped events), and the shared-suite clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functions.clients import KINDS, Api, running_api
from tests.support.aws_world import AwsWorld, aws_world, load_handlers
from tests.support.lambda_api import LambdaApi


@pytest.fixture
def world() -> Iterator[AwsWorld]:
    with aws_world() as running:
        yield running


@pytest.fixture
def handlers(world: AwsWorld) -> dict[str, Any]:
    return load_handlers()


@pytest.fixture
def api(handlers: dict[str, Any]) -> LambdaApi:
    return LambdaApi(handlers)


@pytest.fixture(params=KINDS)
def dicomweb_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The same DICOMweb API on the local server and on the Lambda handlers."""
    with running_api(request.param, tmp_path) as running:
        yield running


def pytest_configure(config: pytest.Config) -> None:
    # Powertools warns when an invocation emitted no metric (a search with no hits, a GET of
    # an upload's status): expected here, as it is in AWS.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish")
