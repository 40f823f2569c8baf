"""Legal hold and retention over real HTTP and the real command (docs/lifecycle.md).

A held study cannot be deleted at any level (409 with a JSON reason) until an admin releases
the hold; the retention job deletes studies last stored before the period, keeps recent and
held ones, and audits each delete in its own name.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pydicom

from cloudpacs.runtime import Services
from tests.support.lifecycle import LONG_AGO, backdate
from tests.support.multipart_body import stow_body
from tests.support.server import live_server
from tests.support.synthetic import ct_study


def _store(http: httpx.Client, instances: int = 2) -> tuple[str, list[pydicom.Dataset]]:
    study, objects = ct_study(instances, rows=8, columns=8)
    body, headers = stow_body(objects)
    response = http.post("/studies", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return study, [pydicom.dcmread(io.BytesIO(o)) for o in objects]


def _audit(services: Services) -> list[dict[str, object]]:
    lines = services.settings.audit_file.read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_hold_blocks_delete_until_released(
    server: tuple[str, Services], http: httpx.Client
) -> None:
    _, services = server
    study, datasets = _store(http)
    first = datasets[0]
    instance = f"/studies/{study}/series/{first.SeriesInstanceUID}/instances/{first.SOPInstanceUID}"
    assert http.get(f"/studies/{study}/hold").json() == {"hold": False}

    placed = http.put(f"/studies/{study}/hold", json={"reason": "litigation 2025-04"})
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert (hold["hold"], hold["reason"], hold["by"]) == (True, "litigation 2025-04", "local")
    assert http.get(f"/studies/{study}/hold").json() == hold

    for path in (
        f"/studies/{study}",
        f"/studies/{study}/series/{first.SeriesInstanceUID}",
        instance,
    ):
        refused = http.delete(path)
        assert refused.status_code == 409, path
        assert refused.headers["content-type"] == "application/json"
        assert "legal hold" in refused.json()["error"]
        assert "litigation 2025-04" in refused.json()["error"]
    assert http.get(instance, headers={"Accept": "application/dicom"}).status_code == 200

    again = http.put(f"/studies/{study}/hold", json={"reason": "court order 88"})
    assert again.status_code == 200
    assert again.json()["since"] == hold["since"]

    released = http.delete(f"/studies/{study}/hold")
    assert released.status_code == 200, released.text
    assert released.json()["hold"] is False
    assert released.json()["released"]["reason"] == "court order 88"
    assert http.get(f"/studies/{study}/hold").json() == {"hold": False}
    deleted = http.delete(f"/studies/{study}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"deleted_instances": 2}
    assert http.get(f"/studies/{study}").status_code == 404

    events = [e for e in _audit(services) if e["study_uid"] == study]
    actions = [(e["action"], e["status"], e["reason"]) for e in events if e["action"] != "retrieve"]
    assert ("hold", 201, None) in actions
    assert ("release_hold", 200, None) in actions
    assert actions.count(("delete", 409, "legal_hold")) == 3
    assert ("delete", 200, None) in actions
    assert all("litigation" not in json.dumps(e) for e in events)


def test_hold_refusals_say_why(http: httpx.Client) -> None:
    study, _ = _store(http, 1)
    unknown = "1.2.826.0.1.3680043.10.543.999"
    assert http.put(f"/studies/{unknown}/hold", json={"reason": "x"}).status_code == 404
    assert http.get(f"/studies/{unknown}/hold").status_code == 404
    assert http.delete(f"/studies/{unknown}/hold").status_code == 404
    not_held = http.delete(f"/studies/{study}/hold")
    assert not_held.status_code == 404
    assert "not on legal hold" in not_held.json()["error"]
    for body in ({}, {"reason": ""}, {"reason": "  "}, {"reason": 7}, {"reason": "x", "y": 1}):
        bad = http.put(f"/studies/{study}/hold", json=body)
        assert bad.status_code == 400, body
        assert bad.json()["error"]
    assert http.put(f"/studies/{study}/hold", content=b"not json").status_code == 400
    assert http.put("/studies/not-a-uid/hold", json={"reason": "x"}).status_code == 400
    assert http.get(f"/studies/{study}/hold").json() == {"hold": False}


def _retention(data_dir: Path, *args: str) -> tuple[int, dict[str, object]]:
    env = {**os.environ, "CLOUDPACS_DATA_DIR": str(data_dir), "CLOUDPACS_FSYNC": "false"}
    command = [sys.executable, "-m", "cloudpacs.cli", "retention", "run", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout) if done.stdout else {"stderr": done.stderr}


def test_retention_deletes_old_keeps_recent_and_held(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with live_server(data_dir) as (root, services), httpx.Client(base_url=root) as http:
        old, _ = _store(http)
        held, _ = _store(http)
        recent, _ = _store(http)
        backdate(services.index, old, LONG_AGO)
        backdate(services.index, held, LONG_AGO)
        assert http.put(f"/studies/{held}/hold", json={"reason": "audit"}).status_code == 201

        code, report = _retention(data_dir, "--days", "30", "--dry-run")
        assert code == 0, report
        assert (report["deleted"], report["held"], report["dry_run"]) == ([old], [held], True)
        assert http.get(f"/studies/{old}/metadata").status_code == 200

        code, report = _retention(data_dir, "--days", "30")
        assert code == 0, report
        assert (report["deleted"], report["held"], report["instances"]) == ([old], [held], 2)
        assert http.get(f"/studies/{old}/metadata").status_code == 404
        assert http.get(f"/studies/{held}/metadata").status_code == 200
        assert http.get(f"/studies/{recent}/metadata").status_code == 200

        code, report = _retention(data_dir, "--days", "30")
        assert (code, report["deleted"], report["held"]) == (0, [], [held])
        deletes = [e for e in _audit(services) if e["entry_point"] == "retention"]
        assert [
            (e["actor"], e["action"], e["study_uid"], e["instance_count"]) for e in deletes
        ] == [("retention", "delete", old, 2)]
        assert deletes[0]["reason"] == "retention_period"


def test_retention_needs_a_period(tmp_path: Path) -> None:
    code, report = _retention(tmp_path / "data")
    assert code == 2
    assert "no retention period" in str(report["stderr"])
