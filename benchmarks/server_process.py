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

import httpx

from tests.support.server import free_port


@contextmanager
def cloudpacs_server(**env: str) -> Iterator[str]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="cloudpacs-bench-") as data_dir:
        environment = {
            **os.environ,
            "CLOUDPACS_DATA_DIR": data_dir,
            "CLOUDPACS_PORT": str(port),
            **{f"CLOUDPACS_{k.upper()}": v for k, v in env.items()},
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cloudpacs.cli",
                "serve",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=environment,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("cloudpacs did not start") from None
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}/dicom-web"
        finally:
            process.terminate()
            process.wait(timeout=30)
