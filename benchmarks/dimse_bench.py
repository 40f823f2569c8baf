"""DIMSE bridge figures: C-STORE throughput with DCMTK ``storescu``, C-FIND and C-GET latency.

``run(report)`` fills ``report`` with:

- ``storescu_200_ct_s``: wall time of DCMTK ``storescu`` sending 200 generated CT images
  (512×512×16-bit, about 0.5 MB each) in one association, with the core's ``fsync`` on and
  off; best and median of three runs, each into a fresh data folder;
- ``c_find_study_ms``: median latency of a study-level C-FIND (PatientID key, the usual
  return keys) over one association, 200 instances stored;
- ``c_get_200_ct_s``: wall time of a pynetdicom C-GET of the whole study.

The bridge runs as ``python -m dimse_bridge`` in its own process, as it runs in the
container, so the client does not share its interpreter lock. Figures for docs/benchmarks.md,
never assertions.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, build_role, evt

from tests.support.server import free_port
from tests.support.synthetic import ct_instance

AE_TITLE = "CLOUDPACS"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
INSTANCES = 200
RUNS = 3
FIND_QUERIES = 50


@contextmanager
def bridge_process(data_dir: Path, *, fsync: bool) -> Iterator[int]:
    """``python -m dimse_bridge`` on a free port over ``data_dir``; yields the port."""
    port = free_port()
    env = {
        **os.environ,
        "CLOUDPACS_DATA_DIR": str(data_dir),
        "CLOUDPACS_FSYNC": "true" if fsync else "false",
        "CLOUDPACS_DIMSE_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dimse_bridge", "--log-level", "warning"], env=env
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the DIMSE bridge did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=60)


def write_study(folder: Path) -> tuple[str, str]:
    study, series = generate_uid(), generate_uid()
    for n in range(1, INSTANCES + 1):
        (folder / f"ct{n:04d}.dcm").write_bytes(ct_instance(study, series, n))
    return study, series


def storescu(port: int, folder: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [
            "storescu",
            "+sd",
            "-aet",
            "CT_SCANNER_1",
            "-aec",
            AE_TITLE,
            "127.0.0.1",
            str(port),
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"storescu failed: {done.stderr[-500:]}")
    return elapsed


def c_find_median_ms(port: int, patient_id: str) -> float:
    ae = AE(ae_title="WORKSTATION_1")
    ae.add_requested_context(STUDY_ROOT_FIND)
    assoc = ae.associate("127.0.0.1", port, ae_title=AE_TITLE)
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.PatientID = patient_id
    for keyword in (
        "PatientName",
        "StudyInstanceUID",
        "StudyDate",
        "AccessionNumber",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedInstances",
    ):
        setattr(identifier, keyword, "")
    samples = []
    try:
        for attempt in range(FIND_QUERIES + 1):
            start = time.perf_counter()
            results = [
                status.Status for status, _ in assoc.send_c_find(identifier, STUDY_ROOT_FIND)
            ]
            if attempt:  # the first one warms up
                samples.append(time.perf_counter() - start)
            assert results == [0xFF00, 0x0000], results
    finally:
        assoc.release()
    return statistics.median(samples) * 1000


def c_get_seconds(port: int, study_uid: str) -> float:
    received = [0]

    def on_store(event: Any) -> int:
        received[0] += 1
        return 0

    ae = AE(ae_title="WORKSTATION_1")
    ae.add_requested_context(STUDY_ROOT_GET)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate(
        "127.0.0.1",
        port,
        ae_title=AE_TITLE,
        max_pdu=0,
        ext_neg=[build_role(CTImageStorage, scp_role=True)],
        evt_handlers=[(evt.EVT_C_STORE, on_store)],
    )
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    start = time.perf_counter()
    statuses = [status.Status for status, _ in assoc.send_c_get(identifier, STUDY_ROOT_GET)]
    elapsed = time.perf_counter() - start
    assoc.release()
    assert statuses[-1] == 0x0000 and received[0] == INSTANCES, (statuses[-1], received[0])
    return elapsed


def run(report: dict[str, Any]) -> None:
    if shutil.which("storescu") is None:
        report["storescu_200_ct_s"] = "DCMTK not installed (apt-get install dcmtk)"
        return
    with tempfile.TemporaryDirectory(prefix="cloudpacs-dimse-bench-") as tmp:
        root = Path(tmp)
        study_dir = root / "study"
        study_dir.mkdir()
        study_uid, _ = write_study(study_dir)
        report["study"] = {
            "instances": INSTANCES,
            "bytes": sum(p.stat().st_size for p in study_dir.iterdir()),
        }
        timings: dict[str, Any] = {}
        for fsync in (True, False):
            runs = []
            for attempt in range(RUNS):
                data = root / f"data-{fsync}-{attempt}"
                with bridge_process(data, fsync=fsync) as port:
                    runs.append(storescu(port, study_dir))
                shutil.rmtree(data, ignore_errors=True)
            timings["fsync_on" if fsync else "fsync_off"] = {
                "best": round(min(runs), 3),
                "median": round(statistics.median(runs), 3),
            }
        report["storescu_200_ct_s"] = timings
        with bridge_process(root / "data-query", fsync=True) as port:
            storescu(port, study_dir)
            report["c_find_study_ms"] = round(c_find_median_ms(port, "PID-0001"), 2)
            report["c_get_200_ct_s"] = round(c_get_seconds(port, study_uid), 3)


if __name__ == "__main__":
    import json

    figures: dict[str, Any] = {}
    run(figures)
    print(json.dumps(figures, indent=2))
