"""A mixed load on the embedded server: concurrent STOW-RS, QIDO-RS, WADO-RS and delete for a
bounded time (seconds under ``make test``, ``CLOUDPACS_SOAK_SECONDS`` under ``make soak``).

Zero 5xx; no acknowledged instance lost (each one not deleted is retrieved with the bytes
sent); every deleted study answers 404; index and objects agree. The figures it prints are
in docs/benchmarks.md ("Mixed load").
"""

from __future__ import annotations

import hashlib
import io
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pydicom

from cloudpacs.services.repair import RepairService
from tests.reliability.archive import acknowledged, check_answer
from tests.reliability.depth import run_load
from tests.support.multipart_body import stow_body
from tests.support.server import live_server
from tests.support.synthetic import ct_study

WORKERS = 4
MAX_REQUESTS_PER_WORKER = 20_000


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    live: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    """study -> sop -> (series, sha256) of acknowledged instances."""
    deleted: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)


def _series_of(data: bytes) -> tuple[str, str]:
    ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    return str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)


def _work(http: httpx.Client, ledger: Ledger, until: float, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(MAX_REQUESTS_PER_WORKER):
        if time.monotonic() > until:
            return
        kind = rng.choices(["stow", "qido", "wado", "delete"], weights=[3, 3, 4, 1])[0]
        with ledger.lock:
            studies = list(ledger.live)
        if kind in ("wado", "delete") and not studies:
            kind = "stow"
        if kind == "stow":
            study, objects = ct_study(rng.randint(1, 3), series=1, rows=8, columns=8)
            body, headers = stow_body(objects)
            response = http.post("/studies", content=body, headers=headers)
            stored = acknowledged(check_answer(response))
            with ledger.lock:
                for data in objects:
                    series, sop = _series_of(data)
                    if sop in stored:
                        ledger.live.setdefault(study, {})[sop] = (
                            series,
                            hashlib.sha256(data).hexdigest(),
                        )
        elif kind == "qido":
            response = http.get("/studies", params={"limit": "50", "PatientID": "PID-0001"})
        elif kind == "wado":
            study = rng.choice(studies)
            response = http.get(f"/studies/{study}/metadata")
        else:
            with ledger.lock:
                study = rng.choice(list(ledger.live))
                ledger.live.pop(study, None)
                ledger.deleted.add(study)
            response = http.delete(f"/studies/{study}")
            if response.status_code not in (200, 404):
                check_answer(response)
        with ledger.lock:
            ledger.counts[kind] += 1
            if response.status_code >= 500:
                ledger.server_errors.append(f"{kind} {response.status_code} {response.text}")


def test_mixed_load(tmp_path: Path) -> None:
    ledger = Ledger()
    with live_server(tmp_path / "data") as (url, services):
        clients = [httpx.Client(base_url=url, timeout=60) for _ in range(WORKERS)]
        elapsed = run_load(lambda i, deadline: _work(clients[i], ledger, deadline, i), WORKERS)
        assert ledger.server_errors == []
        http = clients[0]
        instances = 0
        for study, sops in ledger.live.items():
            for sop, (series, sha) in sops.items():
                got = http.get(
                    f"/studies/{study}/series/{series}/instances/{sop}",
                    headers={"Accept": "application/dicom"},
                )
                assert got.status_code == 200, (study, sop)
                assert hashlib.sha256(got.content).hexdigest() == sha
                instances += 1
        for study in ledger.deleted:
            assert http.get(f"/studies/{study}/metadata").status_code == 404
            assert http.get(f"/studies/{study}/instances").status_code == 404
        report = RepairService(services.index, services.blobs).sweep(fix=False)
        assert (report.indexed, report.dangling, report.unreadable) == ([], [], []), report
        for client in clients:
            client.close()
    total = sum(ledger.counts.values())
    print(
        f"\nmixed load: {WORKERS} clients, {elapsed:.1f} s, {total} requests "
        f"({total / elapsed:.0f}/s): {dict(ledger.counts)}; 0 5xx; {instances} acknowledged "
        f"instances retrieved intact; {len(ledger.deleted)} deleted studies 404"
    )
    assert ledger.counts["stow"] and ledger.counts["qido"]
