"""The viewer's pinned package, its base-path rewriting and its generated configuration."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from cloudpacs.viewer.base_path import rebase_asset, rebase_index
from cloudpacs.viewer.config import OidcLogin, app_config, app_config_js
from cloudpacs.viewer.package import ViewerCache, ViewerUnavailable, check_integrity


def test_only_the_pinned_tarball_is_accepted(tmp_path: Path) -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = b"<html></html>"
        info = tarfile.TarInfo("package/dist/index.html")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ViewerUnavailable, match="does not match the pinned integrity"):
        check_integrity(archive.getvalue())


def test_a_failed_fetch_is_remembered_until_one_succeeds(tmp_path: Path) -> None:
    cache = ViewerCache(tmp_path / "cache")
    assert "has not been fetched" in cache.missing_reason()
    with pytest.raises(ViewerUnavailable):
        cache.fetch(npm=["false"])
    assert not cache.available()
    assert "npm pack @ohif/app@3.13.2 failed (exit 1)" in cache.missing_reason()
    cache.dist.mkdir(parents=True)
    (cache.dist / "index.html").write_text("<html></html>")
    assert cache.fetch(npm=["false"]) == cache.dist  # cached: npm is not asked again


def test_rebase_index_requires_the_published_layout() -> None:
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        rebase_index("<html><script src='/x.js'></script></html>", "/viewer/")


def test_assets_without_root_paths_are_served_as_they_are() -> None:
    assert rebase_asset("5189.bundle.js", "var a = '/not-a-path';", "/viewer/") is None
    assert rebase_asset("x.css", "a{color:red}", "/viewer/") is None
    assert rebase_asset("x.wasm", "url(/x)", "/viewer/") is None
    worker = '(() => { __webpack_require__.p = "/"; })(); importScripts(__webpack_require__.p)'
    assert '__webpack_require__.p = "/viewer/";' in (rebase_asset("w.js", worker, "/viewer/") or "")


def test_config_points_every_root_at_cloudpacs_and_logs_in_with_code_and_pkce() -> None:
    login = OidcLogin(authority="https://idp.example/pool", client_id="abc", scope="openid")
    config = app_config(dicomweb_root="https://api.example/dicom-web", login=login)
    (source,) = config["dataSources"]
    assert config["defaultDataSourceName"] == source["sourceName"]
    roots = {source["configuration"][k] for k in ("qidoRoot", "wadoRoot", "wadoUriRoot")}
    assert roots == {"https://api.example/dicom-web"}
    (oidc,) = config["oidc"]
    assert oidc["response_type"] == "code"  # oidc-client-ts: authorization code with PKCE
    assert oidc["authority"] == "https://idp.example/pool" and oidc["client_id"] == "abc"
    script = app_config_js(config)
    assert script.startswith("/*") and script.rstrip().endswith(";")
    body = script.split("window.config = ", 1)[1].rstrip().removesuffix(";")
    assert json.loads(body) == config
