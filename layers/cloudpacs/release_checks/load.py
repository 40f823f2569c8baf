"""The bounded load test: a fixed number of users, each issuing the reads a viewer issues
(QIDO-RS study search, WADO-RS metadata and frame) back to back for a fixed duration, against
one probe instance stored for the run and deleted after it.

The run fails when the share of failed requests (transport errors and any status but 2xx)
exceeds ``max_error_rate`` or when the 95th percentile latency (nearest rank) exceeds
``max_p95_ms``. It is bounded in time (duration plus at most one request timeout per user) and
in load (``users`` requests in flight at most).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic, perf_counter

import httpx

from cloudpacs.release_checks.failure import CheckFailed
from cloudpacs.release_checks.probe import make_probe
from cloudpacs.release_checks.smoke import DICOM_JSON, FRAME_ACCEPT, delete, store


@dataclass(frozen=True)
class LoadPlan:
    users: int = 4
    duration_seconds: float = 30
    max_error_rate: float = 0.01
    max_p95_ms: float = 2000

    def __post_init__(self) -> None:
        if not 1 <= self.users <= 200 or not 0 < self.duration_seconds <= 3600:
            raise ValueError("users must be 1..200 and the duration 0..3600 s")


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    seconds: float
    first_error: str | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 1.0

    def summary(self) -> str:
        return (
            f"{self.requests} requests in {self.seconds:.1f} s "
            f"({self.requests / self.seconds:.1f}/s), {self.errors} failed "
            f"({self.error_rate:.2%}), p50 {self.p50_ms:.0f} ms, p95 {self.p95_ms:.0f} ms"
        )

    def violations(self, plan: LoadPlan) -> list[str]:
        found = []
        if self.requests == 0:
            found.append("no request completed")
        if self.error_rate > plan.max_error_rate:
            found.append(
                f"error rate {self.error_rate:.2%} exceeds {plan.max_error_rate:.2%}"
                + (f" (first: {self.first_error})" if self.first_error else "")
            )
        if self.p95_ms > plan.max_p95_ms:
            found.append(f"p95 latency {self.p95_ms:.0f} ms exceeds {plan.max_p95_ms:.0f} ms")
        return found


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class _Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies_ms: list[float] = []
        self.errors = 0
        self.first_error: str | None = None

    def record(self, milliseconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies_ms.append(milliseconds)
            if error is not None:
                self.errors += 1
                self.first_error = self.first_error or error


def _user(client: httpx.Client, paths: list[tuple[str, str]], until: float, tally: _Tally) -> None:
    turn = 0
    while monotonic() < until:
        path, accept = paths[turn % len(paths)]
        turn += 1
        start = perf_counter()
        error: str | None = None
        try:
            response = client.get(path, headers={"Accept": accept})
            response.read()
            if not 200 <= response.status_code < 300:
                error = f"GET {path}: {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"GET {path}: {type(exc).__name__}"
        tally.record((perf_counter() - start) * 1000, error)


def run_load(open_client: Callable[[], httpx.Client], plan: LoadPlan) -> LoadResult:
    """Run ``plan`` with one client per user (from ``open_client``); raise `CheckFailed` if the
    probe cannot be stored or deleted."""
    probe = make_probe()
    instance = f"studies/{probe.study}/series/{probe.series}/instances/{probe.instance}"
    paths = [
        (f"studies?StudyInstanceUID={probe.study}", DICOM_JSON),
        (f"{instance}/metadata", DICOM_JSON),
        (f"{instance}/frames/1", FRAME_ACCEPT),
    ]
    with open_client() as setup:
        try:
            store(setup, probe)
        except (httpx.HTTPError, CheckFailed) as exc:
            raise CheckFailed(f"load test: cannot store its probe: {exc}") from None
        tally = _Tally()
        clients = [open_client() for _ in range(plan.users)]
        started = monotonic()
        until = started + plan.duration_seconds
        threads = [
            threading.Thread(target=_user, args=(c, paths, until, tally), daemon=True)
            for c in clients
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            for c in clients:
                c.close()
            delete(setup, probe)
    elapsed = monotonic() - started
    return LoadResult(
        requests=len(tally.latencies_ms),
        errors=tally.errors,
        p50_ms=percentile(tally.latencies_ms, 0.50),
        p95_ms=percentile(tally.latencies_ms, 0.95),
        seconds=elapsed,
        first_error=tally.first_error,
    )
