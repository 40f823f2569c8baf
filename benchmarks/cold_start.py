"""Cold start of the Lambda functions: each handler's import time and the layer's size.

``run(report)`` adds ``report["cold_start"]``:

- ``import_ms``: for each handler, ``python -X importtime`` of ``handler`` in a fresh
  process, laid out as Lambda lays it out: the function folder as the working directory, the
  layer's ``python/`` folder on the path and, as the runtime provides it, the AWS SDK, with
  ``-S`` so nothing else of this machine's site-packages is visible. The import includes
  what the handler does at import (settings, boto3 clients, the app): Lambda's init phase.
  The layer for this machine's architecture is built into ``.bench/`` for it (the deployed
  one is arm64 and cannot load here); without it, the dev environment is measured instead
  and ``environment`` says so. Several runs; the minimum and the median are reported, with
  the packages whose own import time weighs most, and the same import without the layer's
  bytecode (what every cold start paid before the layer shipped it), and with active tracing
  (``traced_min_ms``: Powertools then loads the X-Ray SDK, as the deployed functions do).
- ``--against REF``: the same import in this tree and in commit ``REF``, side by side
  (min and median of 7 alternating runs each, untraced and traced), to measure a change.
- ``layer``: unzipped size of the deployed layer (``layers/.build/python``, ``make layer``)
  and of the function code, against Lambda's 250 MB limit for function code and layers.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("qido", "wado", "stow", "deidentify", "research", "ingest")
"""The HTTP functions and ingest (SQS)."""
FUNCTION_ENVIRONMENT = {
    "deidentify": {"CLOUDPACS_DEID_QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/0/bench"},
    "research": {"CLOUDPACS_RESEARCH_TABLE_NAME": "cloudpacs-bench-research"},
}
"""What each function needs beyond the common settings (``aws_lambda.http_app.REQUIRED``)."""
TRACED = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000",
}
"""Lambda's variables with active tracing: Powertools then loads the X-Ray SDK and patches."""
RUNS = 5
TARGET_MS = 300
LAMBDA_UNZIPPED_LIMIT_MB = 250
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "urllib3")
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
    "AWS_LAMBDA_FUNCTION_NAME": "cloudpacs-bench",
    "CLOUDPACS_BACKEND": "aws",
    "CLOUDPACS_TABLE_NAME": "cloudpacs-bench-index",
    "CLOUDPACS_BUCKET_NAME": "cloudpacs-bench-dicom",
    "CLOUDPACS_INBOX_BUCKET_NAME": "cloudpacs-bench-inbox",
    "CLOUDPACS_AUDIT_LOG_GROUP": "/cloudpacs/bench/audit",
    "CLOUDPACS_EVENT_BUS_NAME": "cloudpacs-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "cloudpacs",
}
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s+)(\S+)")


def _host_arch() -> str:
    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def _site(module: str) -> Path:
    spec = __import__(module)
    return Path(spec.__file__).parent


def _lambda_like_path(bench: Path) -> tuple[list[str], str]:
    """PYTHONPATH entries like Lambda's (layer + runtime SDK), or the dev environment's."""
    arch = _host_arch()
    layer = bench / f"layer-{arch}"
    built = subprocess.run(
        [
            sys.executable,
            str(ROOT / "layers" / "build_layer.py"),
            "--arch",
            arch,
            "--out",
            str(layer),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0 or not (layer / "python").is_dir():
        return [str(ROOT), *sys.path[1:]], "dev virtualenv (the layer could not be built here)"
    sdk = bench / "runtime-sdk"
    sdk.mkdir(parents=True, exist_ok=True)
    for module in RUNTIME_SDK:
        link = sdk / module
        if not link.exists():
            link.symlink_to(_site(module), target_is_directory=True)
    return [str(layer / "python"), str(sdk)], f"the layer built for {arch}, python -S"


def _measure(
    function: str,
    path: list[str],
    *,
    bytecode: bool = True,
    traced: bool = False,
    root: Path = ROOT,
) -> tuple[float, dict[str, float]]:
    """One cold import. Nothing is written (Lambda's /opt is read-only); without ``bytecode``
    the layer's .pyc files are not looked at, as when a layer ships none; ``traced`` as with
    active tracing (the X-Ray SDK loaded and patching)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        **ENVIRONMENT,
        **FUNCTION_ENVIRONMENT.get(function, {}),
        **(TRACED if traced else {}),
        "PYTHONPATH": os.pathsep.join(path),
    }
    env["POWERTOOLS_SERVICE_NAME"] = function
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    flags = [] if bytecode else ["-X", f"pycache_prefix={ROOT / '.bench' / 'no-bytecode'}"]
    done = subprocess.run(
        [sys.executable, "-S", *flags, "-X", "importtime", "-c", "import handler"],
        cwd=root / "functions" / function,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0.0
    heaviest: dict[str, float] = {}
    for match in _LINE.finditer(done.stderr):
        self_us, cumulative_us, name = int(match.group(1)), int(match.group(2)), match.group(4)
        if name == "handler":
            total = cumulative_us / 1000
            heaviest["handler module (settings, clients, app)"] = self_us / 1000
        else:  # own time of each module, summed per top-level package
            top = name.split(".")[0]
            heaviest[top] = heaviest.get(top, 0.0) + self_us / 1000
    return total, heaviest


def _size_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return round(total / 1e6, 1)


def run(report: dict[str, Any]) -> None:
    bench = ROOT / ".bench"
    bench.mkdir(exist_ok=True)
    path, environment = _lambda_like_path(bench)
    imports: dict[str, Any] = {}
    for function in FUNCTIONS:
        runs = [_measure(function, path) for _ in range(RUNS)]
        totals = [total for total, _ in runs]
        heaviest = runs[totals.index(min(totals))][1]
        uncompiled = [_measure(function, path, bytecode=False)[0] for _ in range(2)]
        traced = [_measure(function, path, traced=True)[0] for _ in range(3)]
        imports[function] = {
            "min_ms": round(min(totals)),
            "median_ms": round(statistics.median(totals)),
            "within_target": min(totals) <= TARGET_MS,
            "without_bytecode_min_ms": round(min(uncompiled)),
            "traced_min_ms": round(min(traced)),
            "heaviest_ms": {
                name: round(ms) for name, ms in sorted(heaviest.items(), key=lambda kv: -kv[1])[:6]
            },
        }
    layer = ROOT / "layers" / ".build" / "python"
    functions_mb = _size_mb(ROOT / "functions")
    layer_report: dict[str, Any] = {"limit_mb": LAMBDA_UNZIPPED_LIMIT_MB}
    if layer.is_dir():
        layer_mb = _size_mb(layer)
        layer_report.update(
            {
                "layer_unzipped_mb": layer_mb,
                "function_code_mb": functions_mb,
                "headroom_mb": round(LAMBDA_UNZIPPED_LIMIT_MB - layer_mb - functions_mb, 1),
            }
        )
    else:
        layer_report["layer_unzipped_mb"] = "not built (make layer)"
    report["cold_start"] = {
        "environment": environment,
        "python": platform.python_version(),
        "runs": RUNS,
        "target_ms": TARGET_MS,
        "import_ms": imports,
        "layer": layer_report,
    }


def compare(ref: str, *, runs: int = 7) -> dict[str, Any]:
    """A/B: each handler's import in this tree and in commit ``ref`` (a worktree in
    ``.bench/against``), on the same layer, runs alternating so both see the same load.
    Run as ``python -m benchmarks.cold_start --against REF`` (the worktree helper is a module
    of ``benchmarks``)."""
    from benchmarks.worktree import worktree

    bench = ROOT / ".bench"
    bench.mkdir(exist_ok=True)
    path, environment = _lambda_like_path(bench)
    figures: dict[str, Any] = {}
    with worktree(ref, "against") as other:
        trees = {ref: other, "this tree": ROOT}
        for tree in trees.values():  # each tree's cloudpacs ahead of the layer's copy, compiled
            package = str(tree / "layers" / "cloudpacs")
            subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)
        for function in FUNCTIONS:
            for traced in (False, True):
                times: dict[str, list[float]] = {name: [] for name in trees}
                for _ in range(runs):
                    for name, tree in trees.items():
                        total, _ = _measure(function, [str(tree / "layers"), *path],
                                            traced=traced, root=tree)  # fmt: skip
                        times[name].append(total)
                key = f"{function}{' traced' if traced else ''}"
                figures[key] = {
                    name: {"min_ms": round(min(t)), "median_ms": round(statistics.median(t))}
                    for name, t in times.items()
                }
    return {"environment": environment, "runs": runs, "against": ref, "import_ms": figures}


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", metavar="REF", help="A/B against this commit")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    if args.against:
        result["cold_start_ab"] = compare(args.against)
    else:
        run(result)
    json.dump(result, sys.stdout, indent=2)
    print()
