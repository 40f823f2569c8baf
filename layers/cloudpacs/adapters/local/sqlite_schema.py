"""The SQLite index's tables (DESIGN.md §4), created on first use and brought up to date.

Databases made before the lifecycle columns existed (``last_stored`` and the legal hold of
``docs/lifecycle.md``) get them added in place; ``last_stored`` is filled from the instances
the study holds, so retention sees those studies too.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    study_uid TEXT PRIMARY KEY,
    attrs TEXT NOT NULL,
    patient_id TEXT,
    accession TEXT,
    study_date TEXT,
    name_norm TEXT,
    series_count INTEGER NOT NULL DEFAULT 0,
    instance_count INTEGER NOT NULL DEFAULT 0,
    modalities TEXT NOT NULL DEFAULT '[]',
    sop_classes TEXT NOT NULL DEFAULT '[]',
    last_stored TEXT,
    hold_reason TEXT,
    hold_since TEXT,
    hold_by TEXT
);
CREATE INDEX IF NOT EXISTS studies_patient ON studies(patient_id);
CREATE INDEX IF NOT EXISTS studies_accession ON studies(accession);
CREATE INDEX IF NOT EXISTS studies_date ON studies(study_date);
CREATE INDEX IF NOT EXISTS studies_name ON studies(name_norm);
CREATE TABLE IF NOT EXISTS series (
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    attrs TEXT NOT NULL,
    modality TEXT NOT NULL DEFAULT '',
    instance_count INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (study_uid, series_uid)
);
CREATE INDEX IF NOT EXISTS series_uid ON series(series_uid);
CREATE TABLE IF NOT EXISTS instances (
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    sop_class_uid TEXT NOT NULL,
    transfer_syntax_uid TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    attrs TEXT NOT NULL,
    header_length INTEGER NOT NULL,
    frames TEXT,
    stored_at TEXT NOT NULL,
    PRIMARY KEY (study_uid, series_uid, sop_uid)
);
CREATE INDEX IF NOT EXISTS instances_sop ON instances(sop_uid);
"""


LIFECYCLE_COLUMNS = ("last_stored", "hold_reason", "hold_since", "hold_by")
"""Columns of ``studies`` added after the first release; all ``TEXT``, NULL when unset."""


def create_schema(db: sqlite3.Connection) -> None:
    """Create the tables and indexes, adding the lifecycle columns to an older database."""
    db.executescript(SCHEMA)
    if _missing_columns(db):
        db.execute("BEGIN IMMEDIATE")  # another process may be migrating the same file
        try:
            for name in _missing_columns(db):  # names of the constant above, never input
                db.execute(f"ALTER TABLE studies ADD COLUMN {name} TEXT")
            db.execute(
                "UPDATE studies SET last_stored = (SELECT MAX(stored_at) FROM instances"
                " WHERE instances.study_uid = studies.study_uid) WHERE last_stored IS NULL"
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    db.execute("CREATE INDEX IF NOT EXISTS studies_stored ON studies(last_stored)")


def _missing_columns(db: sqlite3.Connection) -> list[str]:
    present = {row[1] for row in db.execute("PRAGMA table_info(studies)")}
    return [name for name in LIFECYCLE_COLUMNS if name not in present]
