"""What a Lambda function's cold start imports: only what it serves (docs/benchmarks.md,
"Cold start"). Each handler is imported in a fresh interpreter with the function's settings;
the modules it must not load are checked in ``sys.modules``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cold_start import ENVIRONMENT, FUNCTION_ENVIRONMENT, TRACED

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("aws_xray_sdk.core", "cloudpacs.deid", "jwt", "cloudpacs.wiring.deid")
"""Needed by none of the HTTP functions' first requests with tracing off: the X-Ray SDK, the
de-identification engine, the JWT library (API Gateway verifies tokens)."""
ROUTES = {
    "qido": {"qido"},
    "wado": {"wado", "rendered", "ops", "rest_api"},
    "stow": {"stow", "uploads", "delete", "corrections", "hold"},
    "research": {"research", "qido", "wado", "rendered"},
    "deidentify": {"deidentify"},
}


def _cold_import(function: str, extra: dict[str, str] | None = None) -> set[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        **ENVIRONMENT,
        **FUNCTION_ENVIRONMENT.get(function, {}),
        **(extra or {}),
        "POWERTOOLS_SERVICE_NAME": function,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers"), str(ROOT)]),
    }
    script = "import json, sys, handler; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT / "functions" / function,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: set[str] = set(json.loads(done.stdout.splitlines()[-1]))
    return loaded


@pytest.mark.parametrize("function", sorted(ROUTES))
def test_a_function_loads_its_own_routes_and_nothing_heavy(function: str) -> None:
    loaded = _cold_import(function)
    routes = {m.rsplit(".", 1)[1] for m in loaded if m.startswith("cloudpacs.web.routes.")}
    assert routes == ROUTES[function]
    heavy = {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}
    if function == "deidentify":  # queues jobs: their wiring, model and profile checks
        heavy -= {m for m in heavy if m.startswith(("cloudpacs.deid", "cloudpacs.wiring.deid"))}
    assert heavy == set()


def test_with_active_tracing_the_xray_sdk_is_the_provider() -> None:
    assert "aws_xray_sdk.core" in _cold_import("qido", TRACED)


def test_untraced_tracer_keeps_the_decorators_working() -> None:
    from cloudpacs.observability import tracer

    @tracer.capture_method
    def double(value: int) -> int:
        tracer.put_annotation("value", value)
        return value * 2

    @tracer.capture_lambda_handler
    def handler(event: dict[str, int], context: object) -> int:
        return double(event["value"])

    assert handler({"value": 21}, None) == 42
