"""How deep the reliability suite goes: ``quick`` under ``make test``, ``soak`` under
``make soak`` (``CLOUDPACS_RELIABILITY_PROFILE=soak``, ``CLOUDPACS_SOAK_SECONDS``)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

PROFILE_ENV = "CLOUDPACS_RELIABILITY_PROFILE"
SECONDS_ENV = "CLOUDPACS_SOAK_SECONDS"


def profile() -> str:
    return os.environ.get(PROFILE_ENV, "quick")


def soak() -> bool:
    return profile() == "soak"


def load_seconds() -> float:
    """How long each mixed load runs: a few seconds, unless the soak asks for longer."""
    return float(os.environ.get(SECONDS_ENV, "3"))


def run_load(work: Callable[[int, float], None], workers: int) -> float:
    """``work(worker, deadline)`` on ``workers`` threads for ``load_seconds()``; the seconds
    it took. Every worker must have returned within two minutes after the deadline."""
    seconds = load_seconds()
    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i, started + seconds)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads)
    return elapsed
