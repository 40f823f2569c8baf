"""cloudpacs as a separate process (``cloudpacs serve``), as a user runs it.

Measuring a server in the benchmark's own process would make client and server share one
interpreter lock; a child process is the fair comparison with a reference PACS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.server import free_port


def wait_until_up(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    """Poll ``url`` until it answers 2xx; fail if ``process`` exits or 30 s pass."""
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


@contextmanager
def cloudpacs_server(*, tree: Path | None = None, **env: str) -> Iterator[str]:
    """``cloudpacs serve`` with ``CLOUDPACS_*`` settings ``env``; ``tree``: the source tree
    whose ``layers/`` it runs (another commit's, for an A/B), without the DIMSE bridge."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="cloudpacs-bench-") as data_dir:
        environment = {
            **os.environ,
            "CLOUDPACS_DATA_DIR": data_dir,
            "CLOUDPACS_PORT": str(port),
            **{f"CLOUDPACS_{k.upper()}": v for k, v in env.items()},
        }
        extra: list[str] = []
        if tree is not None:
            environment["PYTHONPATH"] = str(tree / "layers")
            extra = ["--no-dimse"]
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cloudpacs.cli",
                "serve",
                "--log-level",
                "warning",
                "--no-access-log",
                *extra,
            ],
            env=environment,
            cwd=tree,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/health", process, "cloudpacs")
            yield f"http://127.0.0.1:{port}/dicom-web"
        finally:
            process.terminate()
            process.wait(timeout=30)
