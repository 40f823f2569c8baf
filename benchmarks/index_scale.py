"""QIDO studies-by-PatientID latency at 1k and at 100k indexed instances.

Index entries are written straight through the Index port (copies of one real entry with
fresh UIDs), so filling 100k instances takes seconds; the query goes through the same
QueryService as QIDO-RS.
"""

from __future__ import annotations

import copy
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydicom.uid import generate_uid

from cloudpacs.adapters.local.sqlite_index import SqliteIndex
from cloudpacs.dicom.attributes import Level
from cloudpacs.dicom.parse import parse_instance
from cloudpacs.model import IndexEntry
from cloudpacs.services.query import QueryService
from cloudpacs.services.query_model import parse_qido
from tests.support.synthetic import Patient, ct_instance

INSTANCES_PER_STUDY = 50


def _fill(index: SqliteIndex, template: IndexEntry, start: int, stop: int) -> None:
    for study_no in range(start // INSTANCES_PER_STUDY, stop // INSTANCES_PER_STUDY):
        study_uid, series_uid = generate_uid(), generate_uid()
        study_attrs = copy.deepcopy(template.study_attrs)
        study_attrs["00100020"] = {"vr": "LO", "Value": [f"PID-{study_no:06d}"]}
        study_attrs["0020000D"] = {"vr": "UI", "Value": [study_uid]}
        for _ in range(INSTANCES_PER_STUDY):
            rec = replace(
                template.instance,
                study_uid=study_uid,
                series_uid=series_uid,
                sop_uid=generate_uid(),
            )
            index.add_instance(
                IndexEntry(study_attrs, template.series_attrs, rec, template.modality),
                replace=False,
            )


def _latency_ms(query: QueryService, patient_id: str) -> float:
    q = parse_qido([("PatientID", patient_id)], Level.STUDY)
    samples = []
    for _ in range(200):
        start = time.perf_counter()
        result = query.search(q)
        samples.append(time.perf_counter() - start)
        assert len(result.items) == 1
    return statistics.median(samples) * 1000


def run_index_scale(total: int = 100_000) -> dict[str, Any]:
    data = ct_instance(
        generate_uid(), generate_uid(), 1, rows=8, columns=8, patient=Patient(patient_id="template")
    )
    template = parse_instance(data).entry
    with tempfile.TemporaryDirectory() as tmp:
        index = SqliteIndex(Path(tmp) / "index.sqlite3", fsync=False)
        query = QueryService(index)
        _fill(index, template, 0, 1_000)
        small = _latency_ms(query, "PID-000007")
        _fill(index, template, 1_000, total)
        large = _latency_ms(query, "PID-000007")
    return {
        "qido_by_patient_id_1k_ms": round(small, 3),
        f"qido_by_patient_id_{total // 1000}k_ms": round(large, 3),
        "qido_by_patient_id_ratio": round(large / small, 2),
    }
