"""``make bench``: cloudpacs figures, and Orthanc's beside them when it is installed.

    python -m benchmarks [--orthanc] [--no-scale] [--no-aws] [--no-dimse] [--no-lambda]

Prints a table and writes ``.bench/results.json``. These are figures to record in
docs/benchmarks.md, never test assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

from pydicom.uid import generate_uid

from benchmarks import orthanc
from benchmarks.dicomweb_bench import run_dicomweb
from benchmarks.limits import run_limits
from benchmarks.server_process import cloudpacs_server
from tests.support.server import free_port
from tests.support.synthetic import ct_instance


def make_study(n: int = 200) -> tuple[str, str, list[str], list[bytes]]:
    """A 200-instance CT study, 512×512×16-bit (about 0.5 MB per instance)."""
    import io

    import pydicom

    study_uid, series_uid = generate_uid(), generate_uid()
    objects = [ct_instance(study_uid, series_uid, i + 1) for i in range(n)]
    sops = [pydicom.dcmread(io.BytesIO(o), stop_before_pixels=True).SOPInstanceUID for o in objects]
    return study_uid, series_uid, sops, objects


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--orthanc", action="store_true", help="also measure Orthanc")
    parser.add_argument("--no-scale", action="store_true", help="skip the 100k index run")
    parser.add_argument("--no-aws", action="store_true", help="skip AWS call counts")
    parser.add_argument("--no-dimse", action="store_true", help="skip the DIMSE figures")
    parser.add_argument(
        "--no-lambda", action="store_true", help="skip handler import times and Lambda calls"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of cloudpacs (fsync on) then Orthanc; ratios are their medians",
    )
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine()}
    study = make_study()
    size = sum(len(o) for o in study[3])
    report["study"] = {"instances": len(study[3]), "bytes": size}
    report["limits"] = run_limits(study[3], Path.cwd())
    save(report)
    with cloudpacs_server(fsync="false") as url:
        report["cloudpacs_fsync_off"] = run_dicomweb(url, *study)
        save(report)
    side_by_side = args.orthanc and orthanc.available()
    if args.orthanc and not side_by_side:
        report["orthanc"] = "not installed (apt-get install orthanc orthanc-dicomweb)"
    rounds = []
    for _ in range(args.rounds if side_by_side else 1):
        # cloudpacs and Orthanc one after the other, round by round: a shared machine's
        # load drifts over a run, and each round's ratio compares neighbouring minutes.
        with cloudpacs_server(fsync="true") as url:
            report["cloudpacs_fsync_on"] = run_dicomweb(url, *study)
        if side_by_side:
            with orthanc.orthanc(free_port(), free_port()) as url:
                report["orthanc"] = run_dicomweb(url, *study)
            rounds.append(
                {
                    "ratios": ratios(report),
                    **{
                        server: {key: report[server][key] for key in RATIO_KEYS}
                        for server in ("cloudpacs_fsync_on", "orthanc")
                    },
                }
            )
            report["rounds"] = rounds
            report["ratios_to_orthanc"] = median_ratios([r["ratios"] for r in rounds])
        save(report)
    if not args.no_scale:
        from benchmarks.index_scale import run_index_scale

        report["index_scale"] = run_index_scale()
        save(report)
    if not args.no_aws:
        from benchmarks.aws_calls import run_aws_calls

        report["aws_calls"] = run_aws_calls()
        save(report)
    if not args.no_dimse:
        try:
            from benchmarks import dimse_bench
        except ImportError:
            report["dimse"] = "not available"
        else:
            dimse_report: dict[str, Any] = {}
            dimse_bench.run(dimse_report)
            report["dimse"] = dimse_report
            save(report)
    if not args.no_lambda:
        from benchmarks import cold_start, lambda_calls

        lambda_report: dict[str, Any] = {}
        cold_start.run(lambda_report)
        lambda_calls.run(lambda_report)
        report["lambda"] = lambda_report
    save(report)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


HIGHER_IS_BETTER = ("stow_instances_per_s", "whole_study_gb_per_s")
LOWER_IS_BETTER = ("one_instance_ms", "study_metadata_ms", "qido_instances_in_study_ms")
RATIO_KEYS = HIGHER_IS_BETTER + LOWER_IS_BETTER


def ratios(report: dict[str, Any]) -> dict[str, float]:
    """cloudpacs (fsync on) over Orthanc, higher is better for cloudpacs, from this round."""
    ours, theirs = report["cloudpacs_fsync_on"], report["orthanc"]
    out = {}
    for key in HIGHER_IS_BETTER:
        out[key] = round(ours[key] / theirs[key], 2)
    for key in LOWER_IS_BETTER:
        out[key] = round(theirs[key] / ours[key], 2)
    return out


def median_ratios(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def save(report: dict[str, Any]) -> None:
    """Write what has been measured so far (a long run keeps its figures if a part fails)."""
    out = Path(".bench")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
