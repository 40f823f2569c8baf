"""The embedded server's stand-in for S3 event -> SQS -> the ingest function.

``submit`` queues an inbox key (``FileInbox.on_created`` calls it); one daemon thread runs
``process(key, attempt=n)`` for each, delivering again after a failure until
``max_receives`` attempts, as SQS would before its dead-letter queue. ``wait_idle`` lets a
caller (tests, a shutdown) wait until every queued upload has been handled. The same worker
stands in for the anonymize function's queue (``task_queue``), named by ``name``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
RETRY_DELAY_SECONDS = 0.5


class InboxWorker:
    def __init__(
        self, process: Callable[..., object], *, max_receives: int, name: str = "inbox"
    ) -> None:
        self._process = process
        self.name = name
        self.max_receives = max_receives
        self._queue: queue.Queue[tuple[str, int]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, key: str) -> None:
        self._queue.put((key, 1))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"cloudpacs-{self.name}", daemon=True
                )
                self._thread.start()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Whether every submitted upload was handled within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _run(self) -> None:
        while True:
            key, attempt = self._queue.get()
            try:
                self._process(key, attempt=attempt)
            except Exception:
                log.exception("%s worker: %s failed (attempt %d)", self.name, key, attempt)
                if attempt < self.max_receives:
                    time.sleep(RETRY_DELAY_SECONDS)
                    self._queue.put((key, attempt + 1))
            finally:
                self._queue.task_done()
