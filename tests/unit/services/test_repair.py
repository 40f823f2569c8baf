"""The repair command and the sweep after an unclean stop of the embedded server (the
sweep itself is in tests/contract/test_repair.py, on both backends)."""

from __future__ import annotations

from pathlib import Path

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.keys import instance_key
from cloudpacs.runtime import build_services
from cloudpacs.settings import load_settings
from tests.support.synthetic import ct_study


def test_repair_command_and_unclean_stop_marker(tmp_path: Path) -> None:
    import threading

    from cloudpacs import unclean_stop
    from cloudpacs.cli import main

    services = build_services(load_settings(data_dir=tmp_path, fsync=False))
    _, objects = ct_study(1, rows=8, columns=8)
    parsed = parse_instance(objects[0])
    rec = parsed.record
    key = instance_key(rec.study_uid, rec.series_uid, rec.sop_uid)
    services.blobs.put(key, parsed.data, sha256=rec.sha256, overwrite=False)

    assert unclean_stop.start_run(services, tmp_path) is None  # first start: clean
    thread = unclean_stop.start_run(services, tmp_path)  # marker left behind: unclean
    assert isinstance(thread, threading.Thread)
    thread.join(timeout=30)
    assert services.index.get_instance(rec.study_uid, rec.series_uid, rec.sop_uid) is not None
    unclean_stop.end_run(tmp_path)
    assert not (tmp_path / unclean_stop.MARKER).exists()

    assert main(["repair", "--data-dir", str(tmp_path), "--dry-run"]) == 0
