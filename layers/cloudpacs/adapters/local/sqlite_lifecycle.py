"""Legal holds and retention selection on the SQLite index (``docs/lifecycle.md``).

The hold lives in the study's row (``hold_reason``, ``hold_since``, ``hold_by``), so it goes
with the row when the study's last instance is removed, as the DynamoDB study item's does.
``last_stored`` is written by every add (``sqlite_index``); an index on it serves the
retention query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from cloudpacs.model import LegalHold, StoredStudy


def _hold_of(row: sqlite3.Row) -> LegalHold | None:
    if row["hold_since"] is None:
        return None
    return LegalHold(reason=row["hold_reason"], since=row["hold_since"], by=row["hold_by"])


def get_hold(db: sqlite3.Connection, study_uid: str) -> LegalHold | None:
    row = db.execute(
        "SELECT hold_reason, hold_since, hold_by FROM studies WHERE study_uid = ?", (study_uid,)
    ).fetchone()
    return _hold_of(row) if row is not None else None


def set_hold(db: sqlite3.Connection, study_uid: str, hold: LegalHold) -> bool:
    updated = db.execute(
        "UPDATE studies SET hold_reason = ?, hold_since = ?, hold_by = ? WHERE study_uid = ?",
        (hold.reason, hold.since, hold.by, study_uid),
    ).rowcount
    return bool(updated)


def release_hold(db: sqlite3.Connection, study_uid: str) -> LegalHold | None:
    released = get_hold(db, study_uid)
    if released is not None:
        db.execute(
            "UPDATE studies SET hold_reason = NULL, hold_since = NULL, hold_by = NULL"
            " WHERE study_uid = ?",
            (study_uid,),
        )
    return released


def stored_before(db: sqlite3.Connection, cutoff: str) -> Iterator[StoredStudy]:
    rows = db.execute(
        "SELECT study_uid, last_stored, hold_reason, hold_since, hold_by FROM studies"
        " WHERE last_stored < ? ORDER BY last_stored, study_uid",
        (cutoff,),
    ).fetchall()  # read whole: the caller deletes studies while it iterates
    for row in rows:
        yield StoredStudy(row["study_uid"], row["last_stored"], _hold_of(row))
