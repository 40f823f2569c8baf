"""DICOMweb latency and throughput against any server (cloudpacs or a reference PACS).

The same client code drives both servers so a side-by-side run is fair: one keep-alive
HTTP connection, the study stored with STOW-RS in batches of 10, then QIDO, metadata and
WADO timings (medians over repeated requests, whole-study throughput best of 5).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.multipart_body import stow_body

DICOM_MULTIPART = 'multipart/related; type="application/dicom"'


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def run_dicomweb(
    root: str, study_uid: str, series_uid: str, sops: list[str], objects: list[bytes]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with httpx.Client(base_url=root, timeout=120) as http:
        results["stow_instances_per_s"] = round(stow_rate(http, objects), 1)

        # Responses are checked once, outside the timed loops: the timings are the server's
        # answer as received, not the client's JSON parsing.
        found = http.get(f"/studies/{study_uid}/instances").json()
        assert len(found) == len(objects), len(found)

        def qido() -> None:
            http.get(f"/studies/{study_uid}/instances").raise_for_status()

        results["qido_instances_in_study_ms"] = round(_median_ms(qido, 50), 2)

        start = time.perf_counter()
        first = http.get(f"/studies/{study_uid}/metadata")
        first.raise_for_status()
        results["study_metadata_first_ms"] = round((time.perf_counter() - start) * 1000, 2)

        assert len(first.json()) == len(objects)

        def metadata() -> None:
            http.get(f"/studies/{study_uid}/metadata").raise_for_status()

        results["study_metadata_ms"] = round(_median_ms(metadata, 30), 2)

        instance = f"/studies/{study_uid}/series/{series_uid}/instances/{sops[len(sops) // 2]}"
        one_instance = lambda: get_instance(http, instance)  # noqa: E731
        results["one_instance_ms"] = round(_median_ms(one_instance, 100), 2)

        # Rendered and thumbnail resources (PS3.18 §9.5), where the server offers them:
        # a rendered JPEG of one instance, and a series thumbnail first (cold) then cached.
        if http.get(f"{instance}/rendered").status_code == 200:
            render = lambda: http.get(f"{instance}/rendered").raise_for_status()  # noqa: E731
            results["rendered_instance_ms"] = round(_median_ms(render, 20), 2)
        thumbnail = f"/studies/{study_uid}/series/{series_uid}/thumbnail"
        start = time.perf_counter()
        if http.get(thumbnail).status_code == 200:
            results["series_thumbnail_cold_ms"] = round((time.perf_counter() - start) * 1000, 2)
            cached = lambda: http.get(thumbnail).raise_for_status()  # noqa: E731
            results["series_thumbnail_cached_ms"] = round(_median_ms(cached, 50), 2)

        best = 0.0
        total = 0
        for _ in range(5):
            total, seconds = read_whole_study(http, study_uid)
            best = max(best, total / seconds)
        results["whole_study_gb_per_s"] = round(best / 1e9, 3)
        results["whole_study_bytes"] = total
    return results


def stow_rate(http: httpx.Client, objects: list[bytes]) -> float:
    """Instances per second storing ``objects`` with STOW-RS in requests of 10."""
    start = time.perf_counter()
    for i in range(0, len(objects), 10):
        body, headers = stow_body(objects[i : i + 10])
        http.post("/studies", content=body, headers=headers).raise_for_status()
    return len(objects) / (time.perf_counter() - start)


def read_whole_study(http: httpx.Client, study_uid: str) -> tuple[int, float]:
    """Bytes of the whole study as stored, streamed, and the seconds it took."""
    start = time.perf_counter()
    total = 0
    with http.stream("GET", f"/studies/{study_uid}", headers={"Accept": DICOM_MULTIPART}) as r:
        r.raise_for_status()
        for chunk in r.iter_raw(1 << 20):
            total += len(chunk)
    return total, time.perf_counter() - start


def get_instance(http: httpx.Client, path: str) -> None:
    """One instance as a single-part multipart answer."""
    http.get(path, headers={"Accept": DICOM_MULTIPART}).raise_for_status()
