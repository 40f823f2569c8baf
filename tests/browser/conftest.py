"""A real ``cloudpacs serve`` with the viewer, real data, and Debian's Chromium driven by
Playwright (never a browser download: ``executable_path`` names the system's Chromium)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from cloudpacs.viewer.package import ViewerCache
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def viewer_cache() -> ViewerCache:
    """The project's viewer cache, fetched from npm if it is not there yet (``make viewer``)."""
    cache = ViewerCache(ROOT / ".cloudpacs-viewer")
    cache.fetch()
    return cache


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, viewer_cache: ViewerCache) -> Iterator[str]:
    """``cloudpacs serve`` on a free loopback port; yields its root URL."""
    port = free_port()
    data = tmp_path_factory.mktemp("browser-data")
    env = {
        **os.environ,
        "CLOUDPACS_VIEWER_CACHE_DIR": str(viewer_cache.root),
        "CLOUDPACS_FSYNC": "false",
    }
    command = [sys.executable, "-m", "cloudpacs.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data), "--no-dimse", "--no-access-log"]
    log = (data / "serve.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(root + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("cloudpacs serve did not start: " + _read(data / "serve.log"))
            time.sleep(0.1)
        yield root
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is needed (apt-get install chromium; .ci/run)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _read(path: Path) -> str:
    return path.read_text()[-3000:] if path.exists() else ""
