"""An index file made before the lifecycle columns existed is brought up to date in place:
its studies keep their data, get a last-stored time from their instances, and can be held."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cloudpacs.adapters.local.sqlite_index import SqliteIndex
from cloudpacs.adapters.local.sqlite_schema import LIFECYCLE_COLUMNS, SCHEMA
from cloudpacs.model import LegalHold

STUDY = "1.2.826.0.1.3680043.10.543.90"


def _old_database(path: Path) -> None:
    old = SCHEMA
    for name in LIFECYCLE_COLUMNS:
        old = old.replace(f",\n    {name} TEXT", "")
    assert "last_stored" not in old
    db = sqlite3.connect(path)
    db.executescript(old)
    db.execute(
        "INSERT INTO studies (study_uid, attrs, series_count, instance_count)"
        " VALUES (?, '{}', 1, 2)",
        (STUDY,),
    )
    for sop, at in (("1", "2024-01-01T00:00:00.000+00:00"), ("2", "2024-02-01T00:00:00.000+00:00")):
        db.execute(
            "INSERT INTO instances VALUES (?, '1.2', ?, '1.2.3', '1.2.840.10008.1.2.1', 'x', 1,"
            " '{}', 1, NULL, ?)",
            (STUDY, f"1.2.3.{sop}", at),
        )
    db.commit()
    db.close()


def test_an_old_index_gets_the_lifecycle_columns(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    _old_database(path)
    index = SqliteIndex(path, fsync=False)
    found = list(index.studies_stored_before("2025-01-01"))
    assert [(s.study_uid, s.last_stored_at) for s in found] == [
        (STUDY, "2024-02-01T00:00:00.000+00:00")
    ]
    hold = LegalHold(reason="audit", since="2025-01-01T00:00:00.000Z", by="alice")
    assert index.set_hold(STUDY, hold)
    assert SqliteIndex(path, fsync=False).get_hold(STUDY) == hold
    study = index.get_study(STUDY)
    assert study is not None and study.instance_count == 2
