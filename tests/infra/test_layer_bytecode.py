"""The layer carries bytecode that stays valid in Lambda (layers/build_layer.py): Lambda mounts
layers read-only and CDK's asset zips reset file times, so only hash-based bytecode that is
not checked against the sources spares each cold start from compiling every module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "layers"))
import build_layer

UNCHECKED_HASH_FLAGS = 0b01  # PEP 552: hash-based, source not checked


def test_bytecode_is_unchecked_hash_and_ignores_file_times(tmp_path: Path) -> None:
    site = tmp_path / "python"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("VALUE = 42\n")
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert build_layer._compile(site, version)
    pyc = site / "pkg" / "__pycache__" / f"__init__.{sys.implementation.cache_tag}.pyc"
    header = pyc.read_bytes()[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH_FLAGS
    first = pyc.read_bytes()
    assert build_layer._compile(site, version)
    assert pyc.read_bytes() == first  # the same bytes on every build


def test_no_bytecode_for_another_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "python"
    site.mkdir()
    (site / "m.py").write_text("x = 1\n")
    assert not build_layer._compile(site, "2.7")
    assert not list(site.rglob("*.pyc"))
    assert "every cold start will compile" in capsys.readouterr().err
