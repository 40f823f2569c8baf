"""Group commit of the SQLite index: writes queued together commit in one transaction, and
a write that fails is rolled back alone, its writer getting its exception."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from cloudpacs.adapters.local.sqlite_group import GroupWriter


class Refused(Exception):
    pass


def test_a_failing_write_in_a_group_is_rolled_back_alone(tmp_path: Path) -> None:
    path = tmp_path / "group.sqlite3"
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if getattr(local, "db", None) is None:
            local.db = sqlite3.connect(path, isolation_level=None)
        return local.db

    connection().execute("CREATE TABLE t (name TEXT PRIMARY KEY)")
    lock = threading.Lock()
    writer = GroupWriter(connection, lock)
    outcomes: dict[str, object] = {}

    def write(name: str) -> None:
        def insert(db: sqlite3.Connection) -> str:
            db.execute("INSERT INTO t VALUES (?)", (name,))
            if name == "bad":
                raise Refused(name)
            return name

        try:
            outcomes[name] = writer.run(insert)
        except Refused as exc:
            outcomes[name] = exc

    names = ["first", "a", "bad", "b", "c"]
    with lock:  # the first writer leads and waits here; the others queue behind it
        threads = [threading.Thread(target=write, args=(n,)) for n in names]
        threads[0].start()
        while not writer._leading:
            time.sleep(0.001)
        for t in threads[1:]:
            t.start()
        while len(writer._queue) < len(names) - 1:
            time.sleep(0.001)
    for t in threads:
        t.join()
    rows = {r[0] for r in connection().execute("SELECT name FROM t")}
    assert rows == {"first", "a", "b", "c"}
    assert isinstance(outcomes["bad"], Refused)
    assert {n: outcomes[n] for n in rows} == {n: n for n in rows}


def test_a_write_sqlite_refuses_raises_to_its_writer_and_leaves_nothing(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "ro.sqlite3", isolation_level=None)
    db.execute("CREATE TABLE t (name TEXT)")
    db.execute("PRAGMA query_only = ON")  # every write of the transaction is refused
    writer = GroupWriter(lambda: db, threading.Lock())
    with pytest.raises(sqlite3.OperationalError):
        writer.run(lambda c: c.execute("INSERT INTO t VALUES ('x')"))
    db.execute("PRAGMA query_only = OFF")
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
