"""The viewer at ``/viewer/`` of the local server (``cloudpacs.web.viewer``), over real HTTP.

The viewer's files here are a small stand-in laid out as OHIF's ``dist/`` is (the real one is
driven in ``tests/browser``): what is tested is how they are served, rebased onto
``/viewer/``, configured for the DICOMweb root, and what the server says without them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cloudpacs.settings import Settings
from cloudpacs.viewer.package import VERSION, ViewerCache, ViewerUnavailable
from cloudpacs.web.viewer import ViewerMount, thumbnail_rendering
from tests.support.server import live_server

INDEX = (
    '<!doctype html><html><head><script>window.PUBLIC_URL="/"</script>'
    '<link rel="manifest" href="/manifest.json"><script src="/app-config.js"></script>'
    '<script src="/app.bundle.0f61.js"></script><a href="//cdn.example/x">x</a></head></html>'
)
BUNDLE = '(() => { __webpack_require__.p = "/"; })(); browserImportFunction("/dmv/x.js");'
STYLE = "@font-face{src:url(/a34f.woff2) format('woff2')}body{background:url(//cdn/x.png)}"


def stand_in(cache: ViewerCache) -> None:
    dist = cache.dist
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "app.bundle.0f61.js").write_text(BUNDLE)
    (dist / "app.bundle.css").write_text(STYLE)
    (dist / "assets" / "logo.svg").write_text("<svg/>")
    (dist / "manifest.json").write_text("{}")


def _mount(cache: ViewerCache) -> Any:
    def wrap(app: Any, settings: Settings) -> ViewerMount:
        return ViewerMount(app, settings=settings, cache=cache, thumbnails="wadors")

    return wrap


@pytest.fixture
def viewer(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    cache = ViewerCache(tmp_path / "viewer")
    stand_in(cache)
    with (
        live_server(tmp_path / "data", wrap=_mount(cache)) as (root, services),
        httpx.Client(base_url=root.removesuffix("/dicom-web"), timeout=30) as http,
    ):
        yield http, services.settings.audit_file


def test_index_and_client_routes_are_rebased_onto_viewer(
    viewer: tuple[httpx.Client, Path],
) -> None:
    http, _ = viewer
    moved = http.get("/viewer")
    assert moved.status_code == 308 and moved.headers["location"] == "/viewer/"
    for path in ("/viewer/", "/viewer/viewer", "/viewer/callback", "/viewer/index.html"):
        page = http.get(path, params={"StudyInstanceUIDs": "1.2.3"})
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert 'window.PUBLIC_URL="/viewer/"' in page.text
        assert 'src="/viewer/app.bundle.0f61.js"' in page.text
        assert 'href="/viewer/manifest.json"' in page.text
        assert 'href="//cdn.example/x"' in page.text  # scheme-relative URLs are left alone
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert "connect-src 'self'" in policy


def test_scripts_and_styles_load_chunks_and_fonts_from_viewer(
    viewer: tuple[httpx.Client, Path],
) -> None:
    http, _ = viewer
    bundle = http.get("/viewer/app.bundle.0f61.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert '__webpack_require__.p = "/viewer/";' in bundle.text
    assert 'browserImportFunction("/viewer/dmv/x.js")' in bundle.text
    style = http.get("/viewer/app.bundle.css")
    assert "url(/viewer/a34f.woff2)" in style.text and "url(//cdn/x.png)" in style.text
    assert http.get("/viewer/assets/logo.svg").text == "<svg/>"


def test_app_config_names_the_dicomweb_root(viewer: tuple[httpx.Client, Path]) -> None:
    http, _ = viewer
    config = http.get("/viewer/app-config.js")
    assert config.status_code == 200 and "javascript" in config.headers["content-type"]
    assert config.headers["cache-control"] == "no-store"
    root = str(http.base_url).rstrip("/") + "/dicom-web"  # CLOUDPACS_PUBLIC_BASE_URL here
    assert f'"qidoRoot": "{root}"' in config.text
    assert f'"wadoRoot": "{root}"' in config.text
    assert '"routerBasename": "/viewer/"' in config.text
    assert '"thumbnailRendering": "wadors"' in config.text
    assert '"oidc"' not in config.text  # the local server runs without login here


def test_unknown_files_and_writes_are_refused_and_nothing_is_audited(
    viewer: tuple[httpx.Client, Path],
) -> None:
    http, audit = viewer
    before = audit.read_text() if audit.exists() else ""
    assert http.get("/viewer/9999.bundle.missing.js").status_code == 404
    assert http.get("/viewer/.hidden").status_code == 404
    assert http.get("/viewer/%2E%2E/%2E%2E/etc/passwd").status_code == 404
    assert http.post("/viewer/", content=b"x").status_code == 405
    assert http.get("/viewer/").status_code == 200
    assert (audit.read_text() if audit.exists() else "") == before
    assert http.get("/dicom-web/studies").status_code == 200  # DICOMweb is served as before


def test_without_a_cached_viewer_the_page_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ViewerCache(tmp_path / "viewer")
    with pytest.raises(ViewerUnavailable, match=r"npm pack @ohif/app@.* failed"):
        cache.fetch(npm=["false"])  # a client that fails, as without the registry
    caplog.set_level(logging.WARNING, logger="cloudpacs.web.viewer")
    with (
        live_server(tmp_path / "data", wrap=_mount(cache)) as (root, _),
        httpx.Client(base_url=root.removesuffix("/dicom-web"), timeout=30) as http,
    ):
        page = http.get("/viewer/viewer")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert f"@ohif/app@{VERSION}" in page.text
        assert "npm pack" in page.text and "cloudpacs viewer fetch" in page.text
        assert http.get("/dicom-web/studies").status_code == 200
        stand_in(cache)  # fetched later: served from then on, without a restart
        assert http.get("/viewer/").status_code == 200
    assert any("the viewer is not served" in r.getMessage() for r in caplog.records)


def test_thumbnails_come_from_the_server_only_when_it_has_them() -> None:
    with_thumbnails, without = FastAPI(), FastAPI()
    with_thumbnails.get("/studies/{study}/thumbnail")(lambda study: None)
    without.get("/studies/{study}/rendered")(lambda study: None)
    assert thumbnail_rendering(with_thumbnails) == "thumbnail"
    assert thumbnail_rendering(without) == "wadors"
