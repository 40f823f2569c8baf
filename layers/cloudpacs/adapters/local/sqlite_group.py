"""Group commit for the SQLite index: concurrent writers share one transaction.

Each writer queues its write; whichever writer finds no commit running becomes the leader,
takes every write queued so far and runs them in one ``BEGIN IMMEDIATE`` transaction, each
inside its own savepoint, so a write that fails is rolled back alone and its writer gets
its exception, while the others commit together. A writer returns only after the
transaction holding its write has committed (or raises if the commit failed), so what it
reports is as durable as a transaction of its own would have been.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

Write = Callable[[sqlite3.Connection], Any]


class _Job:
    __slots__ = ("done", "error", "result", "write")

    def __init__(self, write: Write) -> None:
        self.write = write
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


class GroupWriter:
    def __init__(self, connection: Callable[[], sqlite3.Connection], lock: threading.Lock):
        self._connection = connection
        self._lock = lock
        """Held for the transaction: the index's other writers queue on it too."""
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._leading = False

    def run(self, write: Write) -> Any:
        """Run ``write(db)`` in a committed transaction; its result, or its exception."""
        job = _Job(write)
        with self._cond:
            self._queue.append(job)
            while not job.done:
                if self._leading:
                    self._cond.wait()
                    continue
                self._leading = True
                batch, self._queue = self._queue, []
                self._cond.release()
                try:
                    self._commit(batch)
                finally:
                    self._cond.acquire()
                    self._leading = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        return job.result

    def _commit(self, batch: list[_Job]) -> None:
        db = self._connection()
        try:
            with self._lock:
                db.execute("BEGIN IMMEDIATE")
                try:
                    for job in batch:
                        db.execute("SAVEPOINT one_write")
                        try:
                            job.result = job.write(db)
                        except Exception as exc:
                            db.execute("ROLLBACK TO one_write")
                            job.error = exc
                        db.execute("RELEASE one_write")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except BaseException as exc:
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done = True
