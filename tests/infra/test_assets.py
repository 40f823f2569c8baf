"""Synth refuses code it cannot deploy: a missing function folder or a layer built for another
architecture or Python."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.api.assets import PYTHON_VERSION, AssetError, LambdaAssets


def test_missing_function_folder(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="qido"):
        LambdaAssets(functions_dir=tmp_path, layer_dir=tmp_path).function_code("qido")


def test_layer_not_built(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="make layer"):
        LambdaAssets(functions_dir=tmp_path, layer_dir=tmp_path).layer_code("arm64")


def test_layer_for_another_architecture(tmp_path: Path) -> None:
    manifest = {"hash": "x", "arch": "x86_64", "python_version": PYTHON_VERSION}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(AssetError, match="--arch arm64"):
        LambdaAssets(functions_dir=tmp_path, layer_dir=tmp_path).layer_code("arm64")
