"""A/B of the embedded server's DICOMweb speed: this tree against another commit.

``python -m benchmarks.dicomweb_ab --against REF``: a server from this tree and one from
commit ``REF`` (a worktree in ``.bench/against-dicomweb``) run at the same time, fsync on.
Rounds alternate between them, so both see the same load of a shared machine: each round
stores a new 200-instance study on each (STOW-RS in batches of 10), then reads the first
study whole and one instance of it a few times on each, one server after the other.
Reported: best and median over the rounds, per tree.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from benchmarks.__main__ import make_study
from benchmarks.dicomweb_bench import get_instance, read_whole_study, stow_rate
from benchmarks.server_process import cloudpacs_server
from benchmarks.worktree import ROOT, worktree

READS_PER_ROUND = 4


def _timed_ms(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def compare(ref: str, rounds: int) -> dict[str, Any]:
    studies = [make_study() for _ in range(2 * rounds)]
    figures: dict[str, dict[str, list[float]]] = {}
    with worktree(ref, "against-dicomweb") as other, ExitStack() as stack:
        trees: dict[str, Path] = {ref: other, "this tree": ROOT}
        clients = {
            name: stack.enter_context(
                httpx.Client(
                    base_url=stack.enter_context(cloudpacs_server(tree=tree, fsync="true")),
                    timeout=120,
                )
            )
            for name, tree in trees.items()
        }
        figures = {name: {"stow": [], "whole": [], "one": []} for name in clients}
        for k in range(rounds):
            for j, (name, http) in enumerate(clients.items()):
                figures[name]["stow"].append(stow_rate(http, studies[2 * k + j][3]))
            for name, http in clients.items():
                study_uid, series_uid, sops, _ = studies[list(clients).index(name)]
                instance = f"/studies/{study_uid}/series/{series_uid}/instances/{sops[100]}"
                for _ in range(READS_PER_ROUND):
                    total, seconds = read_whole_study(http, study_uid)
                    figures[name]["whole"].append(total / seconds / 1e9)
                    figures[name]["one"].append(_timed_ms(partial(get_instance, http, instance)))
    return {
        "against": ref,
        "rounds": rounds,
        "stow_instances_per_s": _summary(figures, "stow", max, 0),
        "whole_study_gb_per_s": _summary(figures, "whole", max, 2),
        "one_instance_ms": _summary(figures, "one", min, 2),
    }


def _summary(
    figures: dict[str, dict[str, list[float]]],
    key: str,
    best: Callable[[list[float]], float],
    digits: int,
) -> dict[str, dict[str, float]]:
    return {
        name: {
            "best": round(best(values[key]), digits),
            "median": round(statistics.median(values[key]), digits),
        }
        for name, values in figures.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", metavar="REF", required=True, help="the other commit")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    json.dump(compare(args.against, args.rounds), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
