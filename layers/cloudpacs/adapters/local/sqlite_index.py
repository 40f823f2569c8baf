"""Index on SQLite (the embedded default): the logical model of DESIGN.md §4 as tables.

One connection per thread, WAL journal, and ``BEGIN IMMEDIATE`` around every write so that
the conditional insert and the aggregate updates of one instance are a single transaction;
instances indexed at the same time by several threads share one transaction, each in its
own savepoint (``sqlite_group``).

Durability: with ``fsync`` the WAL runs with ``synchronous=NORMAL``: a commit survives a crash
of the process, and after a power failure the index may miss the last transactions but is
never corrupt. Objects themselves are flushed before they are acknowledged, so the repair
sweep (``cloudpacs repair``, ``services.repair``) re-indexes anything the index lost.
Instances are keyed by (study, series, SOP Instance UID), the same identity as the object
key and as the DynamoDB items, so both backends treat duplicates alike.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from cloudpacs.adapters.local import sqlite_lifecycle
from cloudpacs.adapters.local.sqlite_group import GroupWriter
from cloudpacs.adapters.local.sqlite_schema import create_schema
from cloudpacs.model import (
    AddOutcome,
    AddResult,
    FrameTable,
    IndexEntry,
    InstanceRecord,
    LegalHold,
    SeriesRecord,
    StoredStudy,
    StudyKeys,
    StudyPartition,
    StudyRecord,
)
from cloudpacs.study_keys import index_fields

_INSTANCE_COLUMNS = (
    "study_uid, series_uid, sop_uid, sop_class_uid, transfer_syntax_uid, sha256, size, attrs,"
    " header_length, frames, stored_at"
)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class SqliteIndex:
    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._synchronous = "NORMAL" if fsync else "OFF"
        self._local = threading.local()
        # Writers of this process queue on a lock rather than in SQLite's busy handler,
        # which sleeps in steps of milliseconds while it waits.
        self._write_lock = threading.Lock()
        create_schema(self._db())
        self._group = GroupWriter(self._db, self._write_lock)

    # -- connections -------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self._synchronous}")
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        with self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- writes --------------------------------------------------------------------------
    def add_instance(self, entry: IndexEntry, *, replace: bool) -> AddResult:
        result: AddResult = self._group.run(lambda db: self._add(db, entry, replace))
        return result

    def _add(self, db: sqlite3.Connection, entry: IndexEntry, replace: bool) -> AddResult:
        rec = entry.instance
        existing = self._instance(db, rec.study_uid, rec.series_uid, rec.sop_uid)
        if existing is not None and not replace:
            return AddResult(AddOutcome.EXISTS, existing)
        fields = index_fields(entry.study_attrs)
        db.execute(
            "INSERT OR IGNORE INTO studies (study_uid, attrs, patient_id, accession,"
            " study_date, name_norm) VALUES (?, ?, ?, ?, ?, ?)",
            (
                rec.study_uid,
                _dumps(entry.study_attrs),
                fields.patient_id,
                fields.accession_number,
                fields.study_date,
                fields.name_norm,
            ),
        )
        new_series = db.execute(
            "INSERT OR IGNORE INTO series (study_uid, series_uid, attrs, modality)"
            " VALUES (?, ?, ?, ?)",
            (rec.study_uid, rec.series_uid, _dumps(entry.series_attrs), entry.modality),
        ).rowcount
        db.execute(
            f"INSERT OR REPLACE INTO instances ({_INSTANCE_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rec.study_uid,
                rec.series_uid,
                rec.sop_uid,
                rec.sop_class_uid,
                rec.transfer_syntax_uid,
                rec.sha256,
                rec.size,
                _dumps(rec.attrs),
                rec.header_length,
                _dumps(rec.frames.to_json()) if rec.frames else None,
                rec.stored_at,
            ),
        )
        if existing is not None:  # a replacement's attributes take effect
            db.execute(
                "UPDATE studies SET attrs = ?, patient_id = ?, accession = ?,"
                " study_date = ?, name_norm = ? WHERE study_uid = ?",
                (
                    _dumps(entry.study_attrs),
                    fields.patient_id,
                    fields.accession_number,
                    fields.study_date,
                    fields.name_norm,
                    rec.study_uid,
                ),
            )
            db.execute(
                "UPDATE series SET attrs = ?, modality = ? WHERE study_uid = ? AND series_uid = ?",
                (_dumps(entry.series_attrs), entry.modality, rec.study_uid, rec.series_uid),
            )
        added = 0 if existing is not None else 1
        db.execute(
            "UPDATE series SET instance_count = instance_count + ?, revision = revision + 1"
            " WHERE study_uid = ? AND series_uid = ?",
            (added, rec.study_uid, rec.series_uid),
        )
        row = db.execute(
            "SELECT modalities, sop_classes FROM studies WHERE study_uid = ?",
            (rec.study_uid,),
        ).fetchone()
        modalities = set(orjson.loads(row["modalities"]))
        sop_classes = set(orjson.loads(row["sop_classes"]))
        if entry.modality:
            modalities.add(entry.modality)
        sop_classes.add(rec.sop_class_uid)
        db.execute(
            "UPDATE studies SET series_count = series_count + ?,"
            " instance_count = instance_count + ?, modalities = ?, sop_classes = ?"
            " WHERE study_uid = ?",
            (
                new_series,
                added,
                _dumps(sorted(modalities)),
                _dumps(sorted(sop_classes)),
                rec.study_uid,
            ),
        )
        if rec.stored_at:
            db.execute(
                "UPDATE studies SET last_stored = ? WHERE study_uid = ?",
                (rec.stored_at, rec.study_uid),
            )
        if existing is not None:
            return AddResult(AddOutcome.REPLACED, existing)
        return AddResult(AddOutcome.CREATED)

    def remove_instances(
        self, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None
    ) -> list[InstanceRecord]:
        where, args = _scope(study_uid, series_uid, sop_uid)
        with self._write() as db:
            removed = [
                _instance_from_row(r)
                for r in db.execute(f"SELECT * FROM instances WHERE {where}", args)
            ]
            if not removed:
                return []
            db.execute(f"DELETE FROM instances WHERE {where}", args)
            touched = {r.series_uid for r in removed}
            for series in touched:
                count = db.execute(
                    "SELECT COUNT(*) FROM instances WHERE study_uid = ? AND series_uid = ?",
                    (study_uid, series),
                ).fetchone()[0]
                if count:
                    db.execute(
                        "UPDATE series SET instance_count = ?, revision = revision + 1"
                        " WHERE study_uid = ? AND series_uid = ?",
                        (count, study_uid, series),
                    )
                else:
                    db.execute(
                        "DELETE FROM series WHERE study_uid = ? AND series_uid = ?",
                        (study_uid, series),
                    )
            self._recompute_study(db, study_uid)
        return removed

    def _recompute_study(self, db: sqlite3.Connection, study_uid: str) -> None:
        series = db.execute(
            "SELECT modality, instance_count FROM series WHERE study_uid = ?", (study_uid,)
        ).fetchall()
        if not series:
            db.execute("DELETE FROM studies WHERE study_uid = ?", (study_uid,))
            return
        sop_classes = [
            r[0]
            for r in db.execute(
                "SELECT DISTINCT sop_class_uid FROM instances WHERE study_uid = ?", (study_uid,)
            )
        ]
        modalities = sorted({r["modality"] for r in series if r["modality"]})
        db.execute(
            "UPDATE studies SET series_count = ?, instance_count = ?, modalities = ?,"
            " sop_classes = ? WHERE study_uid = ?",
            (
                len(series),
                sum(r["instance_count"] for r in series),
                _dumps(modalities),
                _dumps(sorted(sop_classes)),
                study_uid,
            ),
        )

    # -- reads ---------------------------------------------------------------------------
    def _instance(
        self, db: sqlite3.Connection, study: str, series: str, sop: str
    ) -> InstanceRecord | None:
        row = db.execute(
            "SELECT * FROM instances WHERE study_uid = ? AND series_uid = ? AND sop_uid = ?",
            (study, series, sop),
        ).fetchone()
        return _instance_from_row(row) if row else None

    def get_instance(self, study_uid: str, series_uid: str, sop_uid: str) -> InstanceRecord | None:
        return self._instance(self._db(), study_uid, series_uid, sop_uid)

    def get_study(self, study_uid: str) -> StudyRecord | None:
        row = (
            self._db().execute("SELECT * FROM studies WHERE study_uid = ?", (study_uid,)).fetchone()
        )
        return _study_from_row(row) if row else None

    def get_studies(self, study_uids: list[str]) -> list[StudyRecord]:
        out: list[StudyRecord] = []
        db = self._db()
        for start in range(0, len(study_uids), 500):
            chunk = study_uids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            out.extend(
                _study_from_row(r)
                for r in db.execute(f"SELECT * FROM studies WHERE study_uid IN ({marks})", chunk)
            )
        return out

    def study_partition(self, study_uid: str) -> StudyPartition | None:
        db = self._db()
        db.execute("BEGIN")
        try:
            study = db.execute("SELECT * FROM studies WHERE study_uid = ?", (study_uid,)).fetchone()
            if study is None:
                return None
            series = db.execute("SELECT * FROM series WHERE study_uid = ?", (study_uid,)).fetchall()
            instances = db.execute(
                "SELECT * FROM instances WHERE study_uid = ?", (study_uid,)
            ).fetchall()
        finally:
            db.execute("COMMIT")
        return StudyPartition(
            study=_study_from_row(study),
            series=tuple(_series_from_row(r) for r in series),
            instances=tuple(_instance_from_row(r) for r in instances),
        )

    def series_partition(
        self, study_uid: str, series_uid: str
    ) -> tuple[SeriesRecord, tuple[InstanceRecord, ...]] | None:
        db = self._db()
        db.execute("BEGIN")
        try:
            series = db.execute(
                "SELECT * FROM series WHERE study_uid = ? AND series_uid = ?",
                (study_uid, series_uid),
            ).fetchone()
            if series is None:
                return None
            rows = db.execute(
                "SELECT * FROM instances WHERE study_uid = ? AND series_uid = ?",
                (study_uid, series_uid),
            ).fetchall()
        finally:
            db.execute("COMMIT")
        return _series_from_row(series), tuple(_instance_from_row(r) for r in rows)

    def find_studies(self, keys: StudyKeys) -> Iterator[StudyRecord]:
        clauses: list[str] = []
        args: list[Any] = []
        if keys.study_uids is not None:
            yield from self.get_studies(list(keys.study_uids))
            return
        if keys.patient_id is not None:
            clauses.append("patient_id = ?")
            args.append(keys.patient_id)
        if keys.accession_number is not None:
            clauses.append("accession = ?")
            args.append(keys.accession_number)
        if keys.study_date is not None:
            clauses.append("study_date BETWEEN ? AND ?")
            args.extend(keys.study_date)
        if keys.patient_name_prefix is not None:
            clauses.append("name_norm >= ? AND name_norm < ?")
            args.extend([keys.patient_name_prefix, keys.patient_name_prefix + "\U0010ffff"])
        where = " AND ".join(clauses) or "1"
        for row in self._db().execute(f"SELECT * FROM studies WHERE {where}", args):
            yield _study_from_row(row)

    # -- lifecycle (docs/lifecycle.md) ---------------------------------------------------
    def get_hold(self, study_uid: str) -> LegalHold | None:
        return sqlite_lifecycle.get_hold(self._db(), study_uid)

    def set_hold(self, study_uid: str, hold: LegalHold) -> bool:
        with self._write() as db:
            return sqlite_lifecycle.set_hold(db, study_uid, hold)

    def release_hold(self, study_uid: str) -> LegalHold | None:
        with self._write() as db:
            return sqlite_lifecycle.release_hold(db, study_uid)

    def studies_stored_before(self, cutoff: str) -> Iterator[StoredStudy]:
        return sqlite_lifecycle.stored_before(self._db(), cutoff)

    def locate_series(self, series_uid: str) -> str | None:
        row = (
            self._db()
            .execute("SELECT study_uid FROM series WHERE series_uid = ? LIMIT 1", (series_uid,))
            .fetchone()
        )
        return str(row[0]) if row else None

    def locate_instance(self, sop_uid: str) -> tuple[str, str] | None:
        row = (
            self._db()
            .execute(
                "SELECT study_uid, series_uid FROM instances WHERE sop_uid = ? LIMIT 1", (sop_uid,)
            )
            .fetchone()
        )
        return (str(row[0]), str(row[1])) if row else None


def _scope(study: str, series: str | None, sop: str | None) -> tuple[str, list[str]]:
    where, args = "study_uid = ?", [study]
    if series is not None:
        where += " AND series_uid = ?"
        args.append(series)
    if sop is not None:
        where += " AND sop_uid = ?"
        args.append(sop)
    return where, args


def _study_from_row(row: sqlite3.Row) -> StudyRecord:
    return StudyRecord(
        study_uid=row["study_uid"],
        attrs=orjson.loads(row["attrs"]),
        series_count=row["series_count"],
        instance_count=row["instance_count"],
        modalities=tuple(orjson.loads(row["modalities"])),
        sop_classes=tuple(orjson.loads(row["sop_classes"])),
    )


def _series_from_row(row: sqlite3.Row) -> SeriesRecord:
    return SeriesRecord(
        study_uid=row["study_uid"],
        series_uid=row["series_uid"],
        attrs=orjson.loads(row["attrs"]),
        instance_count=row["instance_count"],
        revision=row["revision"],
    )


def _instance_from_row(row: sqlite3.Row) -> InstanceRecord:
    frames = row["frames"]
    return InstanceRecord(
        study_uid=row["study_uid"],
        series_uid=row["series_uid"],
        sop_uid=row["sop_uid"],
        sop_class_uid=row["sop_class_uid"],
        transfer_syntax_uid=row["transfer_syntax_uid"],
        sha256=row["sha256"],
        size=row["size"],
        attrs=orjson.loads(row["attrs"]),
        header_length=row["header_length"],
        frames=FrameTable.from_json(orjson.loads(frames)) if frames else None,
        stored_at=row["stored_at"],
    )
