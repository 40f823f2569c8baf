"""Fixtures for the core unit tests: pydicom's files (listed once), and a fresh embedded backend.

``get_testdata_files`` looks in pydicom's own folder and in ``pydicom-data``, and tries to
download what neither holds, so it takes seconds; the list is read once per session.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloudpacs.runtime import Services, build_services
from cloudpacs.settings import load_settings


@dataclass(frozen=True)
class DataFile:
    name: str
    path: Path
    data: bytes


@pytest.fixture(scope="session")
def pydicom_files() -> tuple[DataFile, ...]:
    """Every regular file pydicom's test data offers here (no folders), sorted by name."""
    from pydicom.data import get_testdata_files

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "download failures": files not available offline
        paths = sorted({Path(p) for p in get_testdata_files("*")}, key=lambda p: p.name)
    return tuple(DataFile(p.name, p, p.read_bytes()) for p in paths if p.is_file())


@pytest.fixture
def services(tmp_path: Path) -> Services:
    """The embedded backend (SQLite index + file store) in a temporary folder."""
    return build_services(load_settings(data_dir=tmp_path, fsync=False))


@pytest.fixture
def make_services(tmp_path: Path) -> Callable[..., Services]:
    """Build services with other settings (duplicate policy, result cap), each in its own folder."""
    count = 0

    def build(**overrides: object) -> Services:
        nonlocal count
        count += 1
        folder = tmp_path / f"backend-{count}"
        return build_services(load_settings(data_dir=folder, fsync=False, **overrides))

    return build
