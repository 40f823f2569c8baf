"""A mixed DIMSE load on the bridge: concurrent C-STOREs (pynetdicom and DCMTK ``storescu``),
C-FINDs and C-GETs for a bounded time (seconds under ``make test``, ``CLOUDPACS_SOAK_SECONDS``
under ``make soak``).

Zero failures (every association accepted, every status Success); every C-GET returns the
data sets stored; afterwards every acknowledged instance is listed and retrieved intact, and
nothing else is on disk (``dimse_archive``). The figures it prints are in
docs/benchmarks.md ("Reliability: DIMSE load").
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.uid import CTImageStorage, generate_uid
from pynetdicom import AE

from dimse_bridge.contexts import STUDY_ROOT_FIND, STUDY_ROOT_GET
from tests.dimse.factory import ct_instance, dataset_bytes, part10, write_study
from tests.dimse.harness import BRIDGE_AE, Bridge, call_dcmtk, query, start_bridge
from tests.dimse.test_find import matches
from tests.dimse.test_retrieve import c_get
from tests.reliability.depth import run_load
from tests.reliability.dimse_archive import Sent, check_archive, check_serving, sent

WORKERS = 4
MAX_OPERATIONS_PER_WORKER = 20_000


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    stored: dict[str, list[Sent]] = field(default_factory=dict)
    """study -> acknowledged instances."""
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _store(port: int, ledger: Ledger, rng: random.Random) -> int:
    study, series = generate_uid(), generate_uid()
    datasets = [ct_instance(study, series, n) for n in range(1, rng.randint(2, 4))]
    ae = AE(ae_title="CT_SCANNER_LOAD")
    ae.add_requested_context(CTImageStorage)
    assoc = ae.associate("127.0.0.1", port, ae_title=BRIDGE_AE)
    assert assoc.is_established, "C-STORE association refused"
    statuses = [assoc.send_c_store(ds).Status for ds in datasets]
    assoc.release()
    assert statuses == [0x0000] * len(datasets), statuses
    with ledger.lock:
        ledger.stored[study] = [sent(part10(ds)) for ds in datasets]
    return len(datasets)


def _storescu(port: int, ledger: Ledger, folder: Path) -> int:
    study = write_study(folder, count=3)
    done = call_dcmtk("storescu", "CT_SCANNER_DCMTK", port, *study.files)
    assert done.returncode == 0, done.stdout + done.stderr
    with ledger.lock:
        ledger.stored[study.study_uid] = [sent(f.read_bytes()) for f in study.files]
    return len(study.files)


def _find(port: int, ledger: Ledger) -> None:
    with ledger.lock:
        known = set(ledger.stored)
    found = matches(
        port,
        STUDY_ROOT_FIND,
        query(QueryRetrieveLevel="STUDY", PatientID="PAT-1", StudyInstanceUID=""),
    )
    assert known <= {str(ds.StudyInstanceUID) for ds in found}


def _get(port: int, ledger: Ledger, rng: random.Random) -> None:
    with ledger.lock:
        study = rng.choice(list(ledger.stored))
        items = ledger.stored[study]
    received, status = c_get(
        port, STUDY_ROOT_GET, query(QueryRetrieveLevel="STUDY", StudyInstanceUID=study)
    )
    assert status == 0x0000, hex(status)
    assert sorted(dataset_bytes(r) for r in received) == sorted(i.data_set for i in items)


def _work(port: int, ledger: Ledger, until: float, seed: int, folder: Path) -> None:
    rng = random.Random(seed)
    for n in range(MAX_OPERATIONS_PER_WORKER):
        if time.monotonic() > until:
            return
        kind = rng.choices(["store", "storescu", "find", "get"], weights=[3, 2, 2, 2])[0]
        if kind == "get" and not ledger.stored:
            kind = "store"
        try:
            instances = 0
            if kind == "store":
                instances = _store(port, ledger, rng)
            elif kind == "storescu":
                instances = _storescu(port, ledger, folder / f"{seed}-{n}")
            elif kind == "find":
                _find(port, ledger)
            else:
                _get(port, ledger, rng)
        except Exception as exc:  # a failure of any kind is counted, not fatal to the load
            with ledger.lock:
                ledger.failures.append(f"{kind}: {exc!r}")
            continue
        with ledger.lock:
            ledger.counts[kind] += 1
            ledger.counts["instances"] += instances


def test_mixed_dimse_load(tmp_path: Path, dcmtk: None) -> None:
    running: Bridge = start_bridge(tmp_path)
    ledger = Ledger()
    try:
        elapsed = run_load(
            lambda i, deadline: _work(running.port, ledger, deadline, i, tmp_path / "in"), WORKERS
        )
        assert ledger.failures == []
        check_archive(running, [s for items in ledger.stored.values() for s in items])
        check_serving(running.port)
    finally:
        running.server.stop(grace=2)
    counts = ledger.counts
    operations = counts["store"] + counts["storescu"] + counts["find"] + counts["get"]
    print(
        f"\nDIMSE load: {WORKERS} peers, {elapsed:.1f} s, {operations} associations "
        f"({operations / elapsed:.0f}/s): {dict(counts)}; {counts['instances']} instances "
        f"stored ({counts['instances'] / elapsed:.0f}/s), 0 failures, all retrieved intact"
    )
    assert counts["store"] and counts["storescu"] and counts["find"] and counts["get"]
