"""Local event sink: in-process subscribers, called synchronously in publish order.

The embedded server's stand-in for EventBridge. A subscriber that raises is logged and the
others still run: a broken consumer must not fail the store or delete that published.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from cloudpacs.security.events import InstanceEvent

log = logging.getLogger(__name__)

Subscriber = Callable[[InstanceEvent], None]


class HookEventSink:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` for every later event; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, events: Sequence[InstanceEvent]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for event in events:
            for subscriber in subscribers:
                try:
                    subscriber(event)
                except Exception:
                    log.exception(
                        "event subscriber %r failed on %s %s",
                        subscriber,
                        event.type.value,
                        event.event_id,
                    )
