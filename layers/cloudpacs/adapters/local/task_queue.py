"""The embedded server's stand-in for the anonymize queue (SQS) and function.

Tasks travel as the same JSON bodies the SQS messages carry, through the in-process worker
that also stands in for the inbox queue (``inbox_worker``): one daemon thread, a task
delivered again after a failure until ``max_receives`` deliveries, the last one ``final``
(the worker then records server-side faults as results instead of failing the task).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cloudpacs.adapters.local.inbox_worker import InboxWorker
from cloudpacs.services.deid_model import DeidTask
from cloudpacs.services.deid_worker import DeidWorker


class LocalTaskQueue:
    def __init__(self, worker: DeidWorker, *, max_receives: int) -> None:
        self._worker = worker
        self.max_receives = max_receives
        self._thread = InboxWorker(self._deliver, max_receives=max_receives, name="deidentify")

    def send(self, tasks: Sequence[DeidTask]) -> None:
        for task in tasks:
            self._thread.submit(task.to_json())

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Whether every queued task was handled within ``timeout`` seconds."""
        return self._thread.wait_idle(timeout)

    def _deliver(self, body: str, *, attempt: int) -> None:
        task = DeidTask.from_json(json.loads(body))
        self._worker.process(task, final=attempt >= self.max_receives)
