from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dicomweb_client.api import DICOMwebClient

from cloudpacs.runtime import Services
from tests.support.server import live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    with live_server(tmp_path / "data") as running:
        yield running


@pytest.fixture
def base_url(server: tuple[str, Services]) -> str:
    return server[0]


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
def dicomweb(base_url: str) -> DICOMwebClient:
    return DICOMwebClient(url=base_url)
