"""The load test's verdict: nearest-rank percentiles, and a run fails on error rate or p95
over the configured limits, or when nothing completed."""

from __future__ import annotations

import pytest

from cloudpacs.release_checks.load import LoadPlan, LoadResult, percentile


def _result(requests: int, errors: int, p95_ms: float) -> LoadResult:
    return LoadResult(requests, errors, 1.0, p95_ms, 2.0, "GET x: 500" if errors else None)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.50) == 50.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.95) == 0.0


def test_within_limits_passes() -> None:
    plan = LoadPlan(users=2, duration_seconds=5, max_error_rate=0.01, max_p95_ms=500)
    assert _result(1000, 10, 500).violations(plan) == []


def test_error_rate_and_p95_over_limits_fail() -> None:
    plan = LoadPlan(users=2, duration_seconds=5, max_error_rate=0.01, max_p95_ms=500)
    problems = _result(1000, 11, 501).violations(plan)
    assert problems == [
        "error rate 1.10% exceeds 1.00% (first: GET x: 500)",
        "p95 latency 501 ms exceeds 500 ms",
    ]


def test_a_run_without_requests_fails() -> None:
    assert "no request completed" in _result(0, 0, 0).violations(LoadPlan())


@pytest.mark.parametrize(("users", "duration"), [(0, 5), (201, 5), (2, 0), (2, 7200)])
def test_plan_is_bounded(users: int, duration: float) -> None:
    with pytest.raises(ValueError, match="users must be"):
        LoadPlan(users=users, duration_seconds=duration)
